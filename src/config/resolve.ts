import { CfgError } from '../errors.ts';
import { isInterceptor } from '../call/interceptor.ts';
import { LEVELS } from '../log/logger.ts';
import { defaults } from './defaults.ts';
import { ENV_OVERRIDES, type OverridablePath } from './origin.ts';
import { JWT_ALGORITHMS, type CfgConfig } from './types.ts';

/** Where inside a value a check failed (an array item, an object entry), and why. */
interface Issue {
  /** Appended to the field's path: "[0]", ".cert", ".crypto". */
  at: string;
  value: unknown;
  /** What is allowed, completing "it must be ...". */
  expected: string;
  hint?: string;
}

/** null when the value is allowed; otherwise what is allowed, or an Issue inside the value. */
type Check = (value: unknown) => string | Issue | null;

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
const LABEL = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const appLabel: Check = (v) => {
  if (typeof v === 'string' && LABEL.test(v)) return null;
  const expected = 'an app label: the folder name under apps/ ("crypto"), not a dotted or slashed path ("apps.crypto")';
  const last = typeof v === 'string' ? v.split(/[./\\]/).filter(Boolean).pop() : undefined;
  const hint = last && LABEL.test(last) ? `Use the label "${last}": cfg looks for apps/${last}/ itself.` : undefined;
  return { at: '', value: v, expected, hint };
};
/** Names an object entry in a path: ".crypto", or ["my app"] when it is no identifier. */
const entry = (key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
const asIssue = (bad: string | Issue, at: string, value: unknown): Issue =>
  typeof bad === 'string' ? { at, value, expected: bad } : { ...bad, at: at + bad.at };
const list = (item: Check, unique = false): Check => (v) => {
  if (!Array.isArray(v)) return 'an array';
  for (const [i, x] of v.entries()) {
    const bad = item(x);
    if (bad) return asIssue(bad, `[${i}]`, x);
    if (unique && v.indexOf(x) !== i) return { at: `[${i}]`, value: x, expected: `listed once (it is also item ${v.indexOf(x)})` };
  }
  return null;
};
/** A plain object whose every value passes `value`. */
const record = (shape: string, value: Check): Check => (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return shape;
  for (const [k, x] of Object.entries(v)) {
    const bad = value(x);
    if (bad) return asIssue(bad, entry(k), x);
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
  'grpc.server.handshakeTimeoutMs': int(100, 600_000),
  'grpc.server.maxConnectionIdleMs': int(0, 2 ** 31 - 1),
  'grpc.server.maxConnections': int(1, 1_000_000),
  'grpc.server.maxConcurrentStreams': int(1, 2 ** 31 - 1),
  'grpc.server.tracing': bool,
  'grpc.server.interceptors': list((v) => {
    if (typeof v === 'string') return modRef(v);
    return isInterceptor(v) ? null : 'a module reference "path/to/module#exportName" or an interceptor object { name, intercept(ctx, next) } (or with onStart/onEnd)';
  }),
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
  'grpc.http.enabled': bool,
  'grpc.http.host': nonEmpty,
  'grpc.http.port': int(0, 65535),
  'grpc.http.publicMetrics': bool,
  'grpc.http.headersTimeoutMs': int(100, 600_000),
  'grpc.http.idleTimeoutMs': int(100, 600_000),
  'grpc.http.maxConnections': int(1, 100_000),
  'grpc.autoRegisterApps': bool,
  'grpc.enabledApps': list(appLabel, true),
  'grpc.customServices': record('an object { label: "path/to/module#ExportName" }', modRef),
  'grpc.handlersHook': (v) => (v === null ? null : modRef(v)),
  'grpc.proto.autoGenerate': bool,
  'grpc.proto.protoDir': nonEmpty,
  'grpc.proto.outputDir': nonEmpty,
  'grpc.proto.packagePrefix': (v) =>
    typeof v === 'string' && /^([A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$/.test(v) ? null : 'a proto package name ("api", "acme.api") or ""',
  'grpc.auth.enabled': bool,
  'grpc.auth.requireAuth': bool,
  'grpc.auth.jwtAlgorithm': oneOf(...JWT_ALGORITHMS),
  'grpc.auth.jwtSecretKey': strOrNull,
  'grpc.auth.jwtPublicKey': strOrNull,
  'grpc.auth.jwtPrivateKey': strOrNull,
  'grpc.auth.jwtVerifyExp': bool,
  'grpc.auth.jwtLeeway': int(0, 86_400),
  'grpc.auth.allowTokensWithoutExp': bool,
  'grpc.auth.maxTokenLifetimeSeconds': int(60, 31_536_000),
  'grpc.auth.tokenHeader': (v) => (typeof v === 'string' && /^[a-z0-9-_.]+$/.test(v) ? null : 'a lower-case metadata key ("authorization")'),
  'grpc.auth.tokenPrefix': str,
  'grpc.auth.publicMethods': list(methodPath),
  'grpc.auth.userCacheTtlMs': int(0, 86_400_000),
  'grpc.auth.apiKeyHeader': (v) => (typeof v === 'string' && /^([a-z0-9-_.]+)?$/.test(v) && !v.endsWith('-bin') ? null : 'a lower-case metadata key ("x-api-key"), or "" to turn API keys off'),
  'grpc.auth.apiKeyRecheckMs': int(100, 3_600_000),
  'grpc.requestLog.enabled': bool,
  'grpc.requestLog.sampleRate': (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? null : 'a number from 0 to 1 (the fraction of calls recorded)'),
  'grpc.requestLog.batchSize': int(1, 5000),
  'grpc.requestLog.flushIntervalMs': int(10, 3_600_000),
  'grpc.requestLog.maxPending': int(1, 10_000_000),
  'grpc.monitor.enabled': bool,
  'grpc.monitor.heartbeatMs': int(100, 3_600_000),
  'database.url': (v) =>
    typeof v === 'string' && /^(file:|postgres(ql)?:\/\/)/.test(v) ? null : 'a "file:..." SQLite path or a "postgresql://..." URL',
  'database.poolSize': (v) => (v === null ? null : int(1, 1000)(v)),
  'logging.level': levelCheck,
  'logging.format': oneOf('auto', 'pretty', 'json'),
  'logging.levels': record('an object { loggerName: level }', levelCheck),
  'logging.logCalls': bool,
};

/** A value as the user wrote it, kept short: "70000", "\"apps.crypto\"", "NaN", "a function". */
function show(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'symbol' || v === undefined) return String(v);
  let text: string;
  try {
    text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'function' ? '[function]' : x)) ?? String(v);
  } catch {
    text = Object.prototype.toString.call(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A database URL's password never reaches an error message. */
function redact(path: string, value: unknown): unknown {
  return path === 'database.url' && typeof value === 'string' ? value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@') : value;
}

function invalid(file: string, path: string, message: string, hint = `Fix ${path} in ${file}.`): CfgError {
  return new CfgError('E_CONFIG_INVALID', `${file}: ${path} ${message}`, hint);
}

/** Every settable path: the leaves in `spec` and the sections holding them. */
const knownPaths = [...new Set(Object.keys(spec).flatMap((p) => p.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.'))))];
const loose = (key: string) => key.toLowerCase().replace(/[_-]/g, '');

/** Edits (insert, delete, replace, swap two neighbours) turning `a` into `b`. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The setting an unknown key was probably meant to be: a snake_case or mistyped sibling, or the same name elsewhere. */
function suggest(prefix: string, key: string, siblings: string[]): string | null {
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const same = siblings.find((k) => loose(k) === loose(key));
  if (same) return at(same);
  const near = siblings.find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= (key.length > 5 ? 2 : 1));
  if (near) return at(near);
  return knownPaths.find((p) => loose(p.slice(p.lastIndexOf('.') + 1)) === loose(key)) ?? null;
}

/** A copy of a user value, so that freezing the config never freezes the user's own arrays and objects. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  if (isPlainData(value)) return { ...(value as object) };
  return value;
}

/** Arrays and plain objects holding no functions: configuration data, safe to freeze. */
function isPlainData(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && !Object.values(v).some((x) => typeof x === 'function');
}

/** Walks the user's object against `spec`, copying each given value over the defaults. */
function merge(file: string, target: Record<string, unknown>, input: unknown, prefix: string): void {
  const settings = Object.keys(target).filter((k) => prefix || k !== 'root');
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const where = prefix || 'the default export';
    throw invalid(file, where, `is ${show(input)}; it must be an object ({ ${settings.join(', ')} }).`);
  }
  for (const [key, value] of Object.entries(input)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value === undefined) continue;
    const check = spec[path];
    if (check) {
      const bad = check(value);
      if (bad) {
        const issue = asIssue(bad, '', value);
        throw invalid(file, path + issue.at, `is ${show(redact(path, issue.value))}; it must be ${issue.expected}.`, issue.hint);
      }
      target[key] = copy(value);
      continue;
    }
    const child = target[key];
    if (typeof child === 'object' && child !== null && !Array.isArray(child)) {
      merge(file, child as Record<string, unknown>, value, path);
      continue;
    }
    const guess = suggest(prefix, key, settings);
    throw invalid(
      file,
      path,
      `is not a known setting (set to ${show(value)}); ${prefix ? `${prefix} accepts` : 'the config accepts'} ${settings.join(', ')}.`,
      guess
        ? `Did you mean ${guess}?${key.includes('_') ? " (cfg spells the guide's snake_case names in camelCase.)" : ''}`
        : `Remove ${path}; docs/configuration.md lists every setting.`,
    );
  }
}

function deepFreeze<T>(o: T): T {
  if (isPlainData(o) && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

/**
 * Turns the user's partial config into a frozen, fully defaulted one.
 * `env` overrides what a deployment changes (see docs/configuration.md "Environment variables").
 */
export function resolveConfig(
  input: unknown,
  options: { root: string; file?: string; env?: NodeJS.ProcessEnv },
): CfgConfig {
  const file = options.file ?? 'cfg.config.ts';
  const config = defaults(options.root);
  merge(file, config as unknown as Record<string, unknown>, input === undefined ? {} : input, '');
  applyEnv(config, options.env ?? process.env);
  if (config.database.poolSize === null) config.database.poolSize = config.grpc.server.maxWorkers;
  return deepFreeze(config);
}

function applyEnv(config: CfgConfig, env: NodeJS.ProcessEnv): void {
  const set = (path: OverridablePath, parse: (raw: string) => unknown, apply: (v: never) => void, allowed?: string) => {
    const name = ENV_OVERRIDES[path];
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    const value = parse(raw);
    const bad = spec[path]!(value);
    if (bad) {
      const expected = allowed ?? asIssue(bad, '', value).expected;
      throw new CfgError('E_CONFIG_INVALID', `environment ${name}=${show(redact(path, raw))} (for ${path}) must be ${expected}.`, `Fix or unset ${name}.`);
    }
    apply(value as never);
  };
  const num = (raw: string) => (/^\d+$/.test(raw) ? Number(raw) : raw);
  set('grpc.server.host', String, (v) => (config.grpc.server.host = v));
  set('grpc.server.port', num, (v) => (config.grpc.server.port = v));
  set('grpc.server.maxWorkers', num, (v) => (config.grpc.server.maxWorkers = v));
  set('grpc.server.processes', (r) => (r === 'auto' ? r : num(r)), (v) => (config.grpc.server.processes = v));
  const flag = (raw: string) => ({ '1': true, '0': false, true: true, false: false })[raw] ?? raw;
  set('grpc.http.enabled', flag, (v) => (config.grpc.http.enabled = v), '1 or 0');
  set('grpc.http.host', String, (v) => (config.grpc.http.host = v));
  set('grpc.http.port', num, (v) => (config.grpc.http.port = v));
  set('database.url', String, (v) => (config.database.url = v));
  set('grpc.auth.jwtSecretKey', String, (v) => (config.grpc.auth.jwtSecretKey = v));
  set('grpc.auth.jwtPublicKey', String, (v) => (config.grpc.auth.jwtPublicKey = v));
  set('grpc.auth.jwtPrivateKey', String, (v) => (config.grpc.auth.jwtPrivateKey = v));
  set('grpc.requestLog.enabled', flag, (v) => (config.grpc.requestLog.enabled = v), '1 or 0');
  set('logging.level', String, (v) => (config.logging.level = v));
  set('logging.format', String, (v) => (config.logging.format = v));
}
