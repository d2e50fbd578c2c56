/**
 * Where a setting's value came from, so that a hint points at the place to change it: the
 * command-line flag, the environment variable, or cfg.config.ts.
 */

/** The environment variable that overrides each setting (docs/configuration.md "Environment variables"). */
export const ENV_OVERRIDES = {
  'grpc.server.host': 'CFG_GRPC_HOST',
  'grpc.server.port': 'CFG_GRPC_PORT',
  'grpc.server.maxWorkers': 'CFG_GRPC_MAX_WORKERS',
  'grpc.server.processes': 'CFG_GRPC_PROCESSES',
  'grpc.http.enabled': 'CFG_HTTP',
  'grpc.http.host': 'CFG_HTTP_HOST',
  'grpc.http.port': 'CFG_HTTP_PORT',
  'database.url': 'DATABASE_URL',
  'grpc.auth.jwtSecretKey': 'CFG_JWT_SECRET',
  'grpc.auth.jwtPublicKey': 'CFG_JWT_PUBLIC_KEY',
  'grpc.auth.jwtPrivateKey': 'CFG_JWT_PRIVATE_KEY',
  'grpc.requestLog.enabled': 'CFG_REQUEST_LOG',
  'logging.level': 'CFG_LOG_LEVEL',
  'logging.format': 'CFG_LOG_FORMAT',
} as const;

export type OverridablePath = keyof typeof ENV_OVERRIDES;

/**
 * "--host" when the flag gave the value, "CFG_GRPC_HOST" when the environment did (an empty
 * variable counts as unset, as in the config loader), else "grpc.server.host in cfg.config.ts".
 */
export function settingOrigin(path: OverridablePath, flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  const name = ENV_OVERRIDES[path];
  return env[name] ? name : `${path} in cfg.config.ts`;
}
