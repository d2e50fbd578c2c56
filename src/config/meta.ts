// What the schema says of a setting besides its type, check and default: the environment variable
// that overrides it, whether its value is hidden in messages, how a setting checked as one piece
// is described. Kept in a registry of this module, not in zod's global one.
import type { ZodObject, ZodPrefault, ZodType } from 'zod';
import { z } from './zod.ts';

export interface SettingMeta {
  /** The environment variable that overrides the setting (docs/configuration.md "Environment variables"). */
  env?: string;
  /** The value may hold a password (a database URL): messages show it as "***". */
  redact?: true;
  /**
   * For a setting checked as one piece (an object such as `tls`): what it must be, given the value
   * it has. Whatever is wrong inside it is reported at the setting, with this text.
   */
  expected?: (value: unknown) => string;
}

export const settingMeta = z.registry<SettingMeta>();

declare const ENV: unique symbol;
/**
 * A setting the variable N overrides. The name is kept in `settingMeta` for run time, and in this
 * type (a tag with no run-time value) so that OverridablePath lists exactly these settings.
 */
export type EnvSetting<S, N extends string> = S & { readonly [ENV]: N };

/** Declares that the environment variable `name` overrides `setting` (wrap the defaulted schema). */
export function env<const N extends string, S extends ZodType>(name: N, setting: S): EnvSetting<S, N> {
  const schema: ZodType = setting;
  settingMeta.add(schema, { ...settingMeta.get(schema), env: name });
  return setting as EnvSetting<S, N>;
}

/** The dotted paths of the settings in `Shape` (a section's shape) that an environment variable overrides. */
export type EnvPaths<Shape, Prefix extends string = ''> = {
  [K in keyof Shape & string]: Shape[K] extends { readonly [ENV]: string }
    ? `${Prefix}${K}`
    : Shape[K] extends ZodPrefault<ZodObject<infer Inner>>
      ? EnvPaths<Inner, `${Prefix}${K}.`>
      : never;
}[keyof Shape & string];
