import type { UserConfig } from './types.ts';

/**
 * Types cfg.config.ts: `export default defineConfig({ grpc: { enabledApps: ['crypto'] } })`.
 * An identity function; validation and defaults happen in `resolveConfig` when cfg loads it.
 */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}
