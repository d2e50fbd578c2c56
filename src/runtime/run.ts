import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { setLogger } from '@grpc/grpc-js';
import { loadConfig } from '../config/load.ts';
import { withServerOverrides } from '../config/overrides.ts';
import { getLogger } from '../log/logger.ts';
import { startServer } from '../server/start.ts';
import { printBanner } from './banner.ts';
import type { RunOptions } from './options.ts';
import { handleSignals } from './signals.ts';

/**
 * The rungrpc process. One server; or, with `processes` > 1, a node:cluster primary that starts
 * that many workers one after another, all serving the same port (connections are spread
 * round-robin by the primary). SIGINT/SIGTERM drain gracefully and exit 0; a second signal exits
 * at once with code 1. The command line's host, port and processes are folded into the config
 * here, once; below this, only the config is read.
 */
export async function runGrpc(opts: RunOptions): Promise<void> {
  routeGrpcLogs();
  if (opts.reload) {
    const { runWithReload } = await import('./reload.ts');
    return runWithReload(opts);
  }
  const config = withServerOverrides(await loadConfig(), { host: opts.host, port: opts.port, processes: opts.processes });
  if (cluster.isWorker) {
    const { runWorker } = await import('./cluster.ts');
    return runWorker(config, opts.allowUnmigrated);
  }
  const wanted = config.grpc.server.processes;
  const processes = wanted === 'auto' ? availableParallelism() : wanted;
  if (processes > 1) {
    const { runPrimary } = await import('./cluster.ts');
    return runPrimary(config, processes);
  }
  const signals = handleSignals(config);
  const running = await startServer(config, { allowUnmigrated: opts.allowUnmigrated });
  signals.serving(running);
  // The banner goes out once signals are handled: whoever waits for it may signal at once.
  printBanner(running.server, running.port, config.grpc.server.host, running.httpPort);
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
