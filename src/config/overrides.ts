import type { CfgConfig } from './types.ts';

/** Values a command line gives for settings of cfg.config.ts (rungrpc --host, --port, --processes). */
export interface ServerOverrides {
  host?: string;
  port?: number;
  processes?: number | 'auto';
}

/** The flag that set each overridden setting, per folded config: bind hints name it ("--port"). */
const flags = new WeakMap<CfgConfig, Partial<Record<'grpc.server.host' | 'grpc.server.port', string>>>();

/**
 * The config with the command line's values folded in, once: from here the port goes
 * config -> start -> listen, and nothing below asks `opts.port ?? config...` again.
 * Returns `config` itself when nothing is overridden.
 */
export function withServerOverrides(config: CfgConfig, overrides: ServerOverrides): CfgConfig {
  const { host, port, processes } = overrides;
  if (host === undefined && port === undefined && processes === undefined) return config;
  const server = Object.freeze({
    ...config.grpc.server,
    ...(host === undefined ? {} : { host }),
    ...(port === undefined ? {} : { port }),
    ...(processes === undefined ? {} : { processes }),
  });
  const folded = Object.freeze({ ...config, grpc: Object.freeze({ ...config.grpc, server }) }) as CfgConfig;
  flags.set(folded, {
    ...flags.get(config),
    ...(host === undefined ? {} : { 'grpc.server.host': '--host' }),
    ...(port === undefined ? {} : { 'grpc.server.port': '--port' }),
  });
  return folded;
}

/** The command-line flag that set `path` in this config, if one did. */
export function overrideFlag(config: CfgConfig, path: 'grpc.server.host' | 'grpc.server.port'): string | undefined {
  return flags.get(config)?.[path];
}
