// The interceptor pipeline: the one place that says which interceptors every app call crosses,
// and in which order. Health and reflection are served outside it.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import { parseModuleRef, resolveModuleFile } from '../discovery/modules.ts';
import { CfgError } from '../errors.ts';
import { isInterceptor, type Interceptor } from '../call/interceptor.ts';

/**
 * The slots of the chain, outermost first. Each slot holds cfg's built-in interceptor for it (if
 * its setting is on) followed by any extra interceptors given for that slot:
 *
 * - `logging`: one line per call on "grpc.calls" (logging.logCalls). Outermost, so that calls
 *   refused further in (busy, unauthenticated) are logged too, with their full duration.
 * - `requestLog`: one row per call in grpc_request_log (grpc.requestLog), same reason.
 * - `metrics`: empty in cfg itself; the place for a metrics interceptor (counters and histograms
 *   per method and status): built in by filling BUILTINS.metrics below (so `cfg rungrpc` has it),
 *   or given as `extra.metrics` to buildInterceptors / `interceptors.metrics` to startServer.
 * - `tracing`: an OpenTelemetry span per call (grpc.server.tracing).
 * - `concurrency`: the maxWorkers bound (RESOURCE_EXHAUSTED past its queue). Before auth, so a
 *   flood of calls is bounded before any token is verified or user loaded.
 * - `auth`: JWT and API keys; sets the caller (src/auth/caller.ts), and enforces each method's declared
 *   access (with grpc.auth.enabled false: refuses the methods that need a user).
 * - `project`: grpc.server.interceptors, in the order listed; they see the authenticated user.
 *
 * Error mapping is not a slot: a thrown error becomes the client's status at one boundary in the
 * call core (src/call/boundary.ts toStatus, called by src/call/invoke.ts), because errors thrown by
 * any interceptor, by the core itself (UNIMPLEMENTED, a missing response) or by the handler must all be mapped, and
 * an interceptor sees only what is inside it. Observers (logging, requestLog, metrics) are given
 * the status the boundary sent, in onEnd; tracing, which wraps the call, asks the same
 * `classify(err)` the boundary uses.
 */
export const PIPELINE = ['logging', 'requestLog', 'metrics', 'tracing', 'concurrency', 'auth', 'project'] as const;
export type PipelineSlot = (typeof PIPELINE)[number];

export interface PipelineOptions {
  /**
   * The server's database handle: auth loads users and API keys through it (required when
   * grpc.auth.enabled), and the request log writes to the database it was opened on (on a
   * connection of its own; without a handle, to config.database.url).
   */
  db?: Db;
  /** This server's id (grpc_server.id), stamped on request log rows. */
  serverId?: string;
  /** Extra interceptors per slot, placed after that slot's built-in one (e.g. `{ metrics: [m] }`). */
  extra?: Partial<Record<PipelineSlot, readonly Interceptor[]>>;
}

type Builder = (config: CfgConfig, options: PipelineOptions) => Promise<Interceptor | Interceptor[] | undefined>;

/** cfg's built-in interceptor for each slot, made only when its setting is on. */
const BUILTINS: Record<PipelineSlot, Builder> = {
  async logging(config) {
    if (!config.logging.logCalls) return undefined;
    return (await import('./call-logger.ts')).callLogger();
  },
  async requestLog(config, options) {
    if (!config.grpc.requestLog.enabled) return undefined;
    const [{ requestLog }, { RequestLogWriter }, { openLogSink }, { parseDatabaseUrl }, { dbTarget }] = await Promise.all([
      import('./request-log.ts'),
      import('../ops/request-log.ts'),
      import('../ops/log-sink.ts'),
      import('../db/url.ts'),
      import('../db/client.ts'),
    ]);
    const { batchSize, flushIntervalMs, sampleRate, maxPending } = config.grpc.requestLog;
    const target = options.db ? dbTarget(options.db) : parseDatabaseUrl(config.database.url, config.root);
    const writer = new RequestLogWriter(() => openLogSink(target), {
      serverId: options.serverId ?? null,
      batchSize,
      flushIntervalMs,
      maxPending,
    });
    return requestLog(writer, { sampleRate });
  },
  async metrics() {
    return undefined;
  },
  async tracing(config) {
    if (!config.grpc.server.tracing) return undefined;
    return (await import('./tracing.ts')).tracing();
  },
  async concurrency(config) {
    return (await import('./concurrency.ts')).concurrencyLimit({ max: config.grpc.server.maxWorkers });
  },
  async auth(config, { db }) {
    const { createAuthInterceptor, refuseWithoutAuth } = await import('../auth/interceptor.ts');
    return config.grpc.auth.enabled ? createAuthInterceptor(config, needDb(db)) : refuseWithoutAuth();
  },
  project: loadProjectInterceptors,
};

function needDb(db: Db | undefined): Db {
  if (!db)
    throw new TypeError("buildInterceptors: grpc.auth is enabled and authentication reads the database: pass the server's handle, { db }");
  return db;
}

/** The chain for `config`, outermost first, in PIPELINE order. */
export async function buildInterceptors(config: CfgConfig, options: PipelineOptions = {}): Promise<Interceptor[]> {
  if (config.grpc.auth.enabled) needDb(options.db); // before anything is built (the request log's writer starts a timer)
  const chain: Interceptor[] = [];
  for (const slot of PIPELINE) {
    const built = await BUILTINS[slot](config, options);
    if (Array.isArray(built)) chain.push(...built);
    else if (built) chain.push(built);
    chain.push(...(options.extra?.[slot] ?? []));
  }
  return chain;
}

/** `grpc.server.interceptors`: objects as given, "path#export" module references imported. */
async function loadProjectInterceptors(config: CfgConfig): Promise<Interceptor[]> {
  const out: Interceptor[] = [];
  for (const entry of config.grpc.server.interceptors) {
    if (typeof entry !== 'string') {
      out.push(entry);
      continue;
    }
    const { path, exportName } = parseModuleRef(entry);
    const file = resolveModuleFile(join(config.root, path));
    if (!file)
      throw new CfgError(
        'E_CONFIG_INVALID',
        `grpc.server.interceptors: module ${path} does not exist.`,
        'Module paths are relative to the project root.',
      );
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    let value = mod[exportName];
    if (typeof value === 'function') value = (value as () => unknown)();
    if (!isInterceptor(value))
      throw new CfgError(
        'E_CONFIG_INVALID',
        `grpc.server.interceptors: ${entry} is not an interceptor (an object with intercept(ctx, next) or onStart/onEnd, or a function returning one).`,
        'See docs/services.md "Interceptors".',
      );
    out.push(value);
  }
  return out;
}

/** Runs every interceptor's close() (flushes, timers), after the server has drained its calls. */
export async function closeInterceptors(chain: readonly Interceptor[]): Promise<void> {
  for (const interceptor of chain) {
    try {
      await interceptor.close?.();
    } catch (err) {
      const { getLogger } = await import('../log/logger.ts');
      getLogger('grpc.server').warn(`interceptor ${interceptor.name}: close failed`, { error: (err as Error).message });
    }
  }
}
