// cfg.config.ts's default export, checked against the schema and completed with its defaults,
// then the environment's overrides, frozen.
import type { ZodType } from 'zod';
import { applyEnv } from './env.ts';
import { deepFreeze } from './freeze.ts';
import { configError } from './messages.ts';
import { configSchema } from './schema.ts';
import type { CfgConfig } from './types.ts';
import { sectionShape } from './walk.ts';

/**
 * The input without keys set to undefined in its sections: such a key is unset, whatever its name
 * (`{ ...base, port: undefined }`), as if not written. Section objects are copied; values are not.
 */
function withoutUnset(input: unknown, schema: ZodType): unknown {
  const shape = sectionShape(schema);
  if (!shape || typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  return Object.fromEntries(
    Object.entries(input)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, Object.hasOwn(shape, key) ? withoutUnset(value, shape[key]!) : value]),
  );
}

/**
 * Turns the user's partial config into a frozen, fully defaulted one.
 * `env` overrides what a deployment changes (see docs/configuration.md "Environment variables").
 */
export function resolveConfig(input: unknown, options: { root: string; file?: string; env?: NodeJS.ProcessEnv }): CfgConfig {
  const given = withoutUnset(input === undefined ? {} : input, configSchema);
  const parsed = configSchema.safeParse(given);
  if (!parsed.success) throw configError(parsed.error.issues, given, options.file ?? 'cfg.config.ts');
  const config: CfgConfig = { root: options.root, ...parsed.data };
  applyEnv(config as unknown as Record<string, unknown>, options.env ?? process.env);
  if (config.database.poolSize === null) config.database.poolSize = config.grpc.server.maxWorkers;
  return deepFreeze(config);
}
