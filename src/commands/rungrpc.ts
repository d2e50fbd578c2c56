import { Command, InvalidArgumentError } from 'commander';
import type { RunOptions } from '../runtime/options.ts';

function parsePort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new InvalidArgumentError('a port number from 0 to 65535');
  return n;
}

function parseProcesses(raw: string): number | 'auto' {
  if (raw === 'auto') return raw;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1) throw new InvalidArgumentError('a number of processes >= 1, or "auto"');
  return n;
}

/** cfg rungrpc: discover, register and serve every service. */
export function rungrpcCommand(): Command {
  return new Command('rungrpc')
    .description('Discover the services of grpc.enabledApps and serve them (auth, reflection, health, logging)')
    .option('--host <host>', 'address to bind (default: grpc.server.host, "[::]")')
    .option('--port <port>', 'port to bind, 0 for any free one (default: grpc.server.port, 50051)', parsePort)
    .option('--processes <n>', 'processes serving the port, or "auto" for one per core (default: grpc.server.processes)', parseProcesses)
    .option('--reload', 'restart on changes to apps/, proto/, prisma/ and cfg.config.ts')
    .option(
      '--allow-unmigrated',
      'serve although the database has unapplied migrations (health stays NOT_SERVING until cfg migrate has run)',
    )
    .action(async (opts: RunOptions) => {
      const { withDatabase } = await import('./database.ts');
      const { runGrpc } = await import('../runtime/run.ts');
      // The server opens its own client and keeps it; a database failure at start-up reads as in every command.
      await withDatabase(() => runGrpc(opts));
    });
}
