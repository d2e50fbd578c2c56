import { Command } from 'commander';

/**
 * cfg prunelogs --older-than 30d: delete request log rows older than a duration, and the
 * grpc_server rows of servers that are stopped or down and have not beaten for that long.
 */
export function prunelogsCommand(): Command {
  return new Command('prunelogs')
    .description(
      'Delete request log rows (grpc_request_log) older than a duration, and rows of stopped or down servers (grpc_server) with no heartbeat for as long',
    )
    .requiredOption('--older-than <duration>', 'age: 90s, 30m, 12h, 30d')
    .action(async (opts: { olderThan: string }) => {
      const { withDatabase } = await import('./database.ts');
      const { parseDuration } = await import('../auth/tokens.ts');
      const { pruneRequestLog, pruneServers } = await import('../ops/queries.ts');
      const now = new Date();
      const before = new Date(now.getTime() - parseDuration(opts.olderThan) * 1000);
      await withDatabase(async ({ config, db }) => {
        const calls = await pruneRequestLog(await db(), before);
        process.stdout.write(`deleted ${calls} request log row(s) older than ${opts.olderThan} (before ${before.toISOString()})\n`);
        const servers = await pruneServers(await db(), before, now, config.grpc.monitor.heartbeatMs);
        process.stdout.write(
          `deleted ${servers} server row(s) (grpc_server) stopped or down with no heartbeat since ${before.toISOString()}\n`,
        );
      });
    });
}
