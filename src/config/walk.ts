// The schema as a list: its sections (objects of settings) and its settings (the leaves), each with
// its path. Messages, suggestions and environment overrides read the schema through this.
import type { ZodType } from 'zod';
import { type SettingMeta, settingMeta } from './meta.ts';
import { configSchema } from './schema.ts';
import { z } from './zod.ts';

export interface Setting {
  /** ["grpc", "server", "port"] */
  readonly path: readonly string[];
  /** "grpc.server.port" */
  readonly name: string;
  readonly schema: ZodType;
  readonly meta: SettingMeta;
}

/** The settings of a section: the shape of an object schema, bare or defaulted with prefault({}); else undefined. */
export function sectionShape(schema: ZodType): Record<string, ZodType> | undefined {
  const inner = schema instanceof z.ZodPrefault ? schema.unwrap() : schema;
  return inner instanceof z.ZodObject ? (inner.shape as Record<string, ZodType>) : undefined;
}

const settings: Setting[] = [];
const known: string[] = [];
(function collect(shape: Record<string, ZodType>, prefix: readonly string[]): void {
  for (const [key, schema] of Object.entries(shape)) {
    const path = [...prefix, key];
    known.push(path.join('.'));
    const inner = sectionShape(schema);
    if (inner) collect(inner, path);
    else settings.push({ path, name: path.join('.'), schema, meta: settingMeta.get(schema) ?? {} });
  }
})(configSchema.shape, []);

/** Every setting, in the schema's order. */
export const SETTINGS: readonly Setting[] = settings;
/** Every settable path, each section before what it holds: "grpc", "grpc.enabled", "grpc.server", "grpc.server.host", ... */
export const KNOWN_PATHS: readonly string[] = known;

/**
 * Where `path` leads in the schema: into a section (its shape), or to a setting, with how many
 * steps of the path the setting takes (the rest is inside its value: "[0]", ".crypto").
 */
export function locate(path: readonly PropertyKey[]): { shape: Record<string, ZodType> } | { setting: Setting; depth: number } | undefined {
  let shape: Record<string, ZodType> = configSchema.shape;
  for (let i = 0; i < path.length; i++) {
    const key = String(path[i]);
    const schema = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!schema) return undefined;
    const inner = sectionShape(schema);
    if (!inner) {
      const name = path.slice(0, i + 1).join('.');
      const setting = SETTINGS.find((s) => s.name === name);
      return setting && { setting, depth: i + 1 };
    }
    shape = inner;
  }
  return { shape };
}
