import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { CfgConfig } from '../config/types.ts';
import { flushLogs, getLogger } from '../log/logger.ts';
import { autoGenerateStubs } from '../server/auto-generate.ts';
import { startServer, type RunningServer } from '../server/start.ts';
import { printBanner } from './banner.ts';
import { FOLLOWER_ENV, MANAGED_ENV } from './options.ts';
import { stopWhenOrphaned } from './parent-watch.ts';
import { handleSignals, onParentGone } from './signals.ts';
import { workerExecArgv } from './worker-flags.ts';

const log = getLogger('grpc.server');

/** A worker that did not come to serve: the primary exits with `exitCode`. */
class WorkerFailed extends Error {
  override readonly name = 'WorkerFailed';
  constructor(
    message: string,
    readonly exitCode: number,
    /** The worker printed why itself (it exited); the primary adds nothing. */
    readonly reported: boolean,
  ) {
    super(message);
  }
}

/** One cluster worker: serves the shared port and tells the primary when it does. */
export async function runWorker(config: CfgConfig, allowUnmigrated: boolean | undefined): Promise<void> {
  const signals = handleSignals(config);
  const leader = process.env[FOLLOWER_ENV] !== '1';
  let running: RunningServer;
  try {
    // Every worker asks for the same host:port (even port 0): node:cluster then shares one socket.
    // The HTTP side port is the first worker's only: its /metrics describe that process.
    running = await startServer(config, { generate: false, http: leader, allowUnmigrated });
  } catch (err) {
    // The CLI prints the error; closing the channel to the primary lets this process exit.
    signals.failed();
    setImmediate(() => cluster.worker?.disconnect());
    throw err;
  }
  signals.serving(running);
  if (leader) printBanner(running.server, running.port, config.grpc.server.host, running.httpPort);
  process.send!({ cfg: 'listening', port: running.port });
}

/** Forks one worker; resolves once it serves, rejects with its exit code if it exits first. */
function forkWorker(env: Record<string, string>): Promise<{ worker: Worker; port: number }> {
  return new Promise((resolve, reject) => {
    const worker = cluster.fork(env);
    const onExit = (code: number | null, signal: string | null) =>
      reject(new WorkerFailed(`worker exited (${signal ?? code})`, code ?? 1, true));
    worker.once('exit', onExit);
    worker.on('message', (msg: { cfg?: string; port?: number }) => {
      if (msg?.cfg !== 'listening' || typeof msg.port !== 'number') return;
      worker.off('exit', onExit);
      resolve({ worker, port: msg.port });
    });
  });
}

/**
 * The node:cluster primary: generates stubs once, starts `processes` workers one after another
 * (the first reports a start-up error alone, and prints the banner), replaces a worker that dies,
 * relays signals.
 */
export async function runPrimary(config: CfgConfig, processes: number): Promise<void> {
  await autoGenerateStubs(config);
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
    port = (await forkWorker(env)).port;
    for (let i = 1; i < processes && !stopping; i++) {
      const next = await forkWorker({ ...env, [FOLLOWER_ENV]: '1' });
      if (next.port !== port) throw new WorkerFailed(`worker ${i + 1} bound port ${next.port}, not ${port}`, 1, false);
    }
  } catch (err) {
    if (stopping) return;
    const failed = err instanceof WorkerFailed ? err : new WorkerFailed((err as Error).message, 1, false);
    if (!failed.reported) log.error(failed.message);
    for (const w of alive()) w.process.kill('SIGKILL');
    process.exitCode = failed.exitCode || 1;
    return;
  }
  if (stopping) return;
  serving = true;
  process.stdout.write(
    `${processes} processes serving ${config.grpc.server.host}:${port} (pids ${alive()
      .map((w) => w.process.pid)
      .join(', ')})\n`,
  );
}
