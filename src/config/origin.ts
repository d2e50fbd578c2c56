/**
 * Where a setting's value came from, so that a hint points at the place to change it: the
 * command-line flag, the environment variable, or cfg.config.ts.
 */
import { ENV_SETTINGS } from './env.ts';
import type { EnvPaths } from './meta.ts';
import type { configSchema } from './schema.ts';

/** A setting an environment variable overrides: "grpc.server.port", "database.url", ... */
export type OverridablePath = EnvPaths<typeof configSchema.shape>;

/** The environment variable that overrides each setting (docs/configuration.md "Environment variables"), from the schema. */
export const ENV_OVERRIDES = Object.fromEntries(ENV_SETTINGS.map((s) => [s.name, s.meta.env])) as Readonly<Record<OverridablePath, string>>;

/**
 * "--host" when the flag gave the value, "CFG_GRPC_HOST" when the environment did (an empty
 * variable counts as unset, as in the config loader), else "grpc.server.host in cfg.config.ts".
 */
export function settingOrigin(path: OverridablePath, flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  const name = ENV_OVERRIDES[path];
  return env[name] ? name : `${path} in cfg.config.ts`;
}
