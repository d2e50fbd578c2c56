import { configSchema } from './schema.ts';
import type { CfgConfig } from './types.ts';

/** The guide's defaults, and cfg's for what the guide does not set: every default in the schema. */
export function defaults(root: string): CfgConfig {
  return { root, ...configSchema.parse({}) };
}
