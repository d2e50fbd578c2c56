import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { setLogger } from '@grpc/grpc-js';
import type { RungrpcOptions } from '../commands/rungrpc.ts';
import { loadConfig } from '../config/load.ts';
import type { CfgConfig } from '../config/types.ts';
import { flushLogs, getLogger } from '../log/logger.ts';
import { stopWhenOrphaned } from './parent-watch.ts';
import { startServer, type RunningServer } from '../server/start.ts';
import { workerExecArgv } from './worker-flags.ts';

const log = getLogger('grpc.server');

/** Set by a parent that manages this process (cluster primary, --reload supervisor): it owns Ctrl-C. */
export const MANAGED_ENV = 'CFG_MANAGED';
/** Set on cluster workers after the first: they print no banner. */
const FOLLOWER_ENV = 'CFG_CLUSTER_FOLLOWER';

/**
 * The rungrpc process. One server; or, with `processes` > 1, a node:cluster primary that starts
 * that many workers one after another, all serving the same port (connections are spread
 * round-robin by the primary). SIGINT/SIGTERM drain gracefully and exit 0; a second signal exits
 * at once with code 1.
 */
export async function runGrpc(opts: RungrpcOptions): Promise<void> {
  routeGrpcLogs();
  if (opts.reload) {
    const { runWithReload } = await import('./reload.ts');
    return runWithReload(opts);
  }
  const config = await loadConfig();
  if (cluster.isWorker) return runWorker(config, opts);
  const wanted = opts.processes ?? config.grpc.server.processes;
  const processes = wanted === 'auto' ? availableParallelism() : wanted;
  if (processes > 1) return runPrimary(config, opts, processes);
  const signals = handleSignals(config);
  const running = await startServer(config, { host: opts.host, port: opts.port, allowUnmigrated: opts.allowUnmigrated });
  signals.serving(running);
  await printBanner(running, opts, config);
}

/** The banner goes out once signals are handled: whoever waits for it may signal at once. */
async function printBanner(running: RunningServer, opts: RungrpcOptions, config: CfgConfig): Promise<void> {
  const banner = await import('./banner.ts');
  banner.printBanner(running.server, running.port, opts.host ?? config.grpc.server.host, running.httpPort);
}

/**
 * grpc-js writes its own diagnostics to the console ("No address added ..." next to cfg's clearer
 * E_PORT_IN_USE). They go to the "grpc.core" logger at debug level instead; GRPC_VERBOSITY and
 * GRPC_TRACE still choose what grpc-js reports.
 */
function routeGrpcLogs(): void {
  const core = getLogger('grpc.core');
  const write = (...args: unknown[]) => core.debug(args.map(String).join(' '));
  setLogger({ error: write, info: write, debug: write });
}

async function runWorker(config: CfgConfig, opts: RungrpcOptions): Promise<void> {
  const signals = handleSignals(config);
  let running: RunningServer;
  try {
    // Every worker asks for the same host:port (even port 0): node:cluster then shares one socket.
    // The HTTP side port is the first worker's only: its /metrics describe that process.
    running = await startServer(config, { host: opts.host, port: opts.port, generate: false, http: process.env[FOLLOWER_ENV] !== '1', allowUnmigrated: opts.allowUnmigrated });
  } catch (err) {
    // The CLI prints the error; closing the channel to the primary lets this process exit.
    signals.failed();
    setImmediate(() => cluster.worker?.disconnect());
    throw err;
  }
  signals.serving(running);
  if (process.env[FOLLOWER_ENV] !== '1') await printBanner(running, opts, config);
  process.send!({ cfg: 'listening', port: running.port });
}

/**
 * Graceful stop on the first signal, exit now on the second. Installed before start-up, so a
 * signal never meets the default "die at once"; one that comes before the server serves exits 0.
 * A managed process ignores SIGINT: its parent relays Ctrl-C as SIGTERM.
 */
function handleSignals(config: CfgConfig): { serving(running: RunningServer): void; failed(): void } {
  let signals = 0;
  let running: RunningServer | undefined;
  const stop = (why: string) => {
    signals++;
    if (signals > 1) {
      log.warn(`${why} again: exiting now`);
      flushLogs();
      process.exit(1);
    }
    if (!running) {
      log.info(`${why} during start-up: exiting`);
      flushLogs();
      process.exit(0);
    }
    log.info(`${why}: shutting down (open streams end now with UNAVAILABLE; unary calls in flight get ${config.grpc.server.shutdownGraceMs} ms; signal again to force)`);
    running.stop().then(
      () => {
        log.info('stopped');
        flushLogs();
        process.exit(0);
      },
      (err: unknown) => {
        log.error('shutdown failed', { error: (err as Error).message });
        flushLogs();
        process.exit(1);
      },
    );
  };
  const managed = cluster.isWorker || process.env[MANAGED_ENV] === '1';
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => (managed ? undefined : stop('SIGINT')));
  const orphaned = () => signals === 0 && stop('parent process gone');
  if (process.env[MANAGED_ENV] === '1' && !cluster.isWorker) onParentGone(orphaned);
  else if (!managed) stopWhenOrphaned(orphaned);
  return {
    serving(r) {
      running = r;
    },
    failed() {
      process.off('disconnect', orphaned);
    },
  };
}

/** Forks one worker; resolves once it serves, rejects with its exit code if it exits first. */
function forkWorker(env: Record<string, string>): Promise<{ worker: Worker; port: number }> {
  return new Promise((resolve, reject) => {
    const worker = cluster.fork(env);
    const onExit = (code: number | null, signal: string | null) => reject(Object.assign(new Error(`worker exited (${signal ?? code})`), { exitCode: code ?? 1, workerExited: true }));
    worker.once('exit', onExit);
    worker.on('message', (msg: { cfg?: string; port?: number }) => {
      if (msg?.cfg !== 'listening' || typeof msg.port !== 'number') return;
      worker.off('exit', onExit);
      resolve({ worker, port: msg.port });
    });
  });
}

async function runPrimary(config: CfgConfig, opts: RungrpcOptions, processes: number): Promise<void> {
  const { protoDir, outputDir, autoGenerate } = config.grpc.proto;
  if (autoGenerate) {
    // Once, here: workers generating into one folder at the same time would trip over each other.
    const { generateProto, stubsAreStale } = await import('../proto/generate.ts');
    if (await stubsAreStale(join(config.root, protoDir), join(config.root, outputDir))) {
      const result = await generateProto({ protoDir, outputDir, cwd: config.root });
      log.info(`generated stubs from ${result.protoFiles.length} proto file(s) in ${result.ms} ms`);
    }
  }
  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, processes, availableParallelism()) });
  const env = { [MANAGED_ENV]: '1' };
  const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  let stopping = false;
  let serving = false;

  // Signals first: workers (which ignore Ctrl-C) get SIGTERM from here, once; a second signal kills them.
  const onSignal = (signal: string) => {
    if (signal === 'SIGINT' && process.env[MANAGED_ENV] === '1') return;
    if (stopping) {
      log.warn(`${signal} again: killing workers`);
      for (const w of alive()) w.process.kill('SIGKILL');
      flushLogs();
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: stopping ${alive().length} workers`);
    if (alive().length === 0) {
      flushLogs();
      process.exit(0);
    }
    for (const w of alive()) w.process.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (process.env[MANAGED_ENV] === '1') onParentGone(() => stopping || onSignal('SIGTERM'));
  else stopWhenOrphaned(() => stopping || onSignal('parent process gone'));
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (alive().length === 0) {
        log.info('all workers stopped');
        flushLogs();
        process.exit(0);
      }
      return;
    }
    if (!serving) return; // a start-up failure: handled below
    log.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    forkWorker({ ...env, [FOLLOWER_ENV]: '1' }).then(
      ({ worker: w }) => log.info(`worker ${w.process.pid} serving`),
      () => log.error('the replacement worker failed to start; serving with one process fewer'),
    );
  });

  let port: number;
  try {
    // One after another: the first reports a start-up error alone, and the banner once.
    port = (await forkWorker(env)).port;
    for (let i = 1; i < processes && !stopping; i++) {
      const next = await forkWorker({ ...env, [FOLLOWER_ENV]: '1' });
      if (next.port !== port) throw Object.assign(new Error(`worker ${i + 1} bound port ${next.port}, not ${port}`), { exitCode: 1 });
    }
  } catch (err) {
    if (stopping) return;
    // A worker that failed to start has printed why; anything else is said here.
    if (!(err as { workerExited?: boolean }).workerExited) log.error((err as Error).message);
    for (const w of alive()) w.process.kill('SIGKILL');
    process.exitCode = (err as { exitCode?: number }).exitCode || 1;
    return;
  }
  if (stopping) return;
  serving = true;
  const host = opts.host ?? config.grpc.server.host;
  process.stdout.write(`${processes} processes serving ${host}:${port} (pids ${alive().map((w) => w.process.pid).join(', ')})\n`);
}

/**
 * Stops when the --reload supervisor's IPC channel closes (it died without stopping us). The
 * channel is unref'd: a 'disconnect' listener would otherwise keep a failed start-up alive.
 * (Cluster workers need none of this: node:cluster ends them when their primary goes.)
 */
function onParentGone(fn: () => void): void {
  if (!process.connected) return;
  process.once('disconnect', fn);
  process.channel?.unref();
}
