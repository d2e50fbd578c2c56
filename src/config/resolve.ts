import { CfgError } from '../errors.ts';
import { LEVELS } from '../log/logger.ts';
import { defaults } from './defaults.ts';
import { JWT_ALGORITHMS, type CfgConfig } from './types.ts';

type Check = (value: unknown) => string | null;

const MIN_MSG = 1024;
const MAX_MSG = 100 * 1024 * 1024;

const bool: Check = (v) => (typeof v === 'boolean' ? null : 'a boolean (true or false)');
const str: Check = (v) => (typeof v === 'string' ? null : 'a string');
const nonEmpty: Check = (v) => (typeof v === 'string' && v.length > 0 ? null : 'a non-empty string');
const strOrNull: Check = (v) => (v === null || typeof v === 'string' ? null : 'a string or null');
const int = (min: number, max: number): Check => (v) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `an integer from ${min} to ${max}`;
const oneOf = (...allowed: readonly string[]): Check => (v) =>
  typeof v === 'string' && allowed.includes(v) ? null : `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
const appLabel: Check = (v) =>
  typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_-]*$/.test(v)
    ? null
    : 'an app label: the folder name under apps/ ("crypto"), not a dotted or slashed path ("apps.crypto")';
const list = (item: Check): Check => (v) => {
  if (!Array.isArray(v)) return 'an array';
  for (const [i, x] of v.entries()) {
    const bad = item(x);
    if (bad) return `an array whose items are each ${bad} (item ${i} is ${show(x)})`;
  }
  return null;
};
const modRef: Check = (v) =>
  typeof v === 'string' && /^[^#]+#[A-Za-z_$][\w$]*$/.test(v) ? null : 'a module reference "path/to/module#exportName"';
const methodPath: Check = (v) =>
  typeof v === 'string' && /^\/[\w.]+\/\w+$/.test(v) ? null : 'a full method name "/package.Service/Method"';
const levelCheck = oneOf(...LEVELS);

/** Each leaf of the config: its checker. Objects not listed here are rejected as unknown keys. */
const spec: Record<string, Check> = {
  'grpc.enabled': bool,
  'grpc.server.host': nonEmpty,
  'grpc.server.port': int(0, 65535),
  'grpc.server.maxWorkers': int(1, 100_000),
  'grpc.server.processes': (v) => (v === 'auto' ? null : int(1, 256)(v) && 'an integer from 1 to 256, or "auto"'),
  'grpc.server.enableReflection': bool,
  'grpc.server.enableHealthCheck': bool,
  'grpc.server.shutdownGraceMs': int(0, 3_600_000),
  'grpc.server.compression': oneOf('none', 'gzip', 'deflate'),
  'grpc.server.maxReceiveMessageLength': int(MIN_MSG, MAX_MSG),
  'grpc.server.maxSendMessageLength': int(MIN_MSG, MAX_MSG),
  'grpc.server.keepaliveTimeMs': int(1000, 2 ** 31 - 1),
  'grpc.server.keepaliveTimeoutMs': int(100, 2 ** 31 - 1),
  'grpc.server.maxConnectionAgeMs': int(0, 2 ** 31 - 1),
  'grpc.server.tracing': bool,
  'grpc.server.interceptors': list((v) => (typeof v === 'object' && v !== null ? null : modRef(v))),
  'grpc.server.tls': (v) => {
    if (v === null) return null;
    if (typeof v !== 'object') return 'null or { cert, key, clientCa? } (PEM file paths)';
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => !['cert', 'key', 'clientCa'].includes(k));
    if (extra.length) return `{ cert, key, clientCa? } without ${extra.join(', ')}`;
    if (typeof o.cert !== 'string' || typeof o.key !== 'string') return '{ cert, key } as PEM file paths';
    if (o.clientCa !== undefined && typeof o.clientCa !== 'string') return 'clientCa as a PEM file path';
    return null;
  },
  'grpc.autoRegisterApps': bool,
  'grpc.enabledApps': list(appLabel),
  'grpc.customServices': (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'an object { label: "path/to/module#ExportName" }';
    for (const [k, ref] of Object.entries(v)) if (modRef(ref)) return `an object whose values are module references "path/to/module#ExportName" (${k} is ${show(ref)})`;
    return null;
  },
  'grpc.handlersHook': (v) => (v === null ? null : modRef(v)),
  'grpc.proto.autoGenerate': bool,
  'grpc.proto.protoDir': nonEmpty,
  'grpc.proto.outputDir': nonEmpty,
  'grpc.proto.packagePrefix': str,
  'grpc.auth.enabled': bool,
  'grpc.auth.requireAuth': bool,
  'grpc.auth.jwtAlgorithm': oneOf(...JWT_ALGORITHMS),
  'grpc.auth.jwtSecretKey': strOrNull,
  'grpc.auth.jwtPublicKey': strOrNull,
  'grpc.auth.jwtPrivateKey': strOrNull,
  'grpc.auth.jwtVerifyExp': bool,
  'grpc.auth.jwtLeeway': int(0, 86_400),
  'grpc.auth.tokenHeader': (v) => (typeof v === 'string' && /^[a-z0-9-_.]+$/.test(v) ? null : 'a lower-case metadata key ("authorization")'),
  'grpc.auth.tokenPrefix': str,
  'grpc.auth.publicMethods': list(methodPath),
  'grpc.auth.userCacheTtlMs': int(0, 86_400_000),
  'database.url': (v) =>
    typeof v === 'string' && /^(file:|postgres(ql)?:\/\/)/.test(v) ? null : 'a "file:..." SQLite path or a "postgresql://..." URL',
  'database.poolSize': (v) => (v === null ? null : int(1, 1000)(v)),
  'logging.level': levelCheck,
  'logging.format': oneOf('auto', 'pretty', 'json'),
  'logging.levels': (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'an object { loggerName: level }';
    for (const [k, lvl] of Object.entries(v)) if (levelCheck(lvl)) return `an object whose levels are ${levelCheck(lvl)} (${k} is ${show(lvl)})`;
    return null;
  },
  'logging.logCalls': bool,
};

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function invalid(file: string, path: string, message: string): CfgError {
  return new CfgError('E_CONFIG_INVALID', `${file}: ${path} ${message}`, `Fix ${path} in ${file}.`);
}

/** Walks the user's object against `spec`, copying each given value over the defaults. */
function merge(file: string, target: Record<string, unknown>, input: unknown, prefix: string): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid(file, prefix || 'the default export', `must be an object, got ${show(input)}`);
  }
  for (const [key, value] of Object.entries(input)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value === undefined) continue;
    const check = spec[path];
    if (check) {
      const expected = check(value);
      if (expected) throw invalid(file, path, `is ${show(value)}; it must be ${expected}.`);
      target[key] = value;
      continue;
    }
    const child = target[key];
    if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
      merge(file, child as Record<string, unknown>, value, path);
      continue;
    }
    const known = Object.keys(target).map((k) => (prefix ? `${prefix}.${k}` : k));
    throw invalid(file, path, `is not a known setting. Known here: ${known.join(', ')}.`);
  }
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * Turns the user's partial config into a frozen, fully defaulted one.
 * `env` overrides what a deployment changes (see README "Environment variables").
 */
export function resolveConfig(
  input: unknown,
  options: { root: string; file?: string; env?: NodeJS.ProcessEnv },
): CfgConfig {
  const file = options.file ?? 'cfg.config.ts';
  const config = defaults(options.root);
  merge(file, config as unknown as Record<string, unknown>, input ?? {}, '');
  applyEnv(config, options.env ?? process.env);
  if (config.database.poolSize === null) config.database.poolSize = config.grpc.server.maxWorkers;
  return deepFreeze(config);
}

function applyEnv(config: CfgConfig, env: NodeJS.ProcessEnv): void {
  const set = (name: string, path: string, parse: (raw: string) => unknown, apply: (v: never) => void) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    const value = parse(raw);
    const expected = spec[path]!(value);
    if (expected) throw new CfgError('E_CONFIG_INVALID', `environment ${name}=${show(raw)} (for ${path}) must be ${expected}.`, `Fix or unset ${name}.`);
    apply(value as never);
  };
  const num = (raw: string) => (/^\d+$/.test(raw) ? Number(raw) : raw);
  set('CFG_GRPC_HOST', 'grpc.server.host', String, (v) => (config.grpc.server.host = v));
  set('CFG_GRPC_PORT', 'grpc.server.port', num, (v) => (config.grpc.server.port = v));
  set('CFG_GRPC_PROCESSES', 'grpc.server.processes', (r) => (r === 'auto' ? r : num(r)), (v) => (config.grpc.server.processes = v));
  set('DATABASE_URL', 'database.url', String, (v) => (config.database.url = v));
  set('CFG_JWT_SECRET', 'grpc.auth.jwtSecretKey', String, (v) => (config.grpc.auth.jwtSecretKey = v));
  set('CFG_JWT_PUBLIC_KEY', 'grpc.auth.jwtPublicKey', String, (v) => (config.grpc.auth.jwtPublicKey = v));
  set('CFG_JWT_PRIVATE_KEY', 'grpc.auth.jwtPrivateKey', String, (v) => (config.grpc.auth.jwtPrivateKey = v));
  set('CFG_LOG_LEVEL', 'logging.level', String, (v) => (config.logging.level = v));
  set('CFG_LOG_FORMAT', 'logging.format', String, (v) => (config.logging.format = v));
}
