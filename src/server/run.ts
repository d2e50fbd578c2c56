import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { RungrpcOptions } from '../commands/rungrpc.ts';
import { loadConfig } from '../config/load.ts';
import { flushLogs, getLogger } from '../log/logger.ts';
import { startServer } from './start.ts';

const log = getLogger('grpc.server');

/**
 * The rungrpc process: one server, or (processes > 1) a node:cluster primary that forks one
 * worker per process, all serving the same port. SIGINT/SIGTERM drain gracefully and exit 0;
 * a second signal exits at once.
 */
export async function runGrpc(opts: RungrpcOptions): Promise<void> {
  if (opts.reload) {
    const { runWithReload } = await import('./reload.ts');
    return runWithReload(opts);
  }
  const config = await loadConfig();
  const wanted = opts.processes ?? config.grpc.server.processes;
  const processes = wanted === 'auto' ? availableParallelism() : wanted;
  if (processes > 1 && cluster.isPrimary) return runPrimary(processes);

  const running = await startServer(config, { host: opts.host, port: opts.port, banner: cluster.isPrimary || cluster.worker?.id === 1 });
  if (cluster.isWorker) process.send?.({ cfg: 'listening', port: running.port });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn(`${signal} again: exiting now`);
      flushLogs();
      process.exit(1);
    }
    log.info(`${signal}: shutting down (in-flight calls get ${config.grpc.server.shutdownGraceMs} ms; signal again to force)`);
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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function runPrimary(processes: number): Promise<void> {
  log.info(`starting ${processes} worker processes`);
  let stopping = false;
  for (let i = 0; i < processes; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        log.info('all workers stopped');
        flushLogs();
        process.exit(0);
      }
      return;
    }
    log.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    cluster.fork();
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: stopping workers`);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return new Promise(() => {});
}
