import { Command } from 'commander';

/** cfg prunelogs --older-than 30d: delete request log rows older than a duration. */
export function prunelogsCommand(): Command {
  return new Command('prunelogs')
    .description('Delete request log rows (grpc_request_log) older than a duration')
    .requiredOption('--older-than <duration>', 'age: 90s, 30m, 12h, 30d')
    .action(async (opts: { olderThan: string }) => {
      const { loadConfig } = await import('../config/load.ts');
      const { getDb, closeDb } = await import('../db/client.ts');
      const { parseDuration } = await import('../auth/tokens.ts');
      const { pruneRequestLog } = await import('../ops/queries.ts');
      const before = new Date(Date.now() - parseDuration(opts.olderThan) * 1000);
      const config = await loadConfig({ required: false });
      try {
        const count = await pruneRequestLog(await getDb(config), before);
        process.stdout.write(`deleted ${count} request log row(s) older than ${opts.olderThan} (before ${before.toISOString()})\n`);
      } finally {
        await closeDb();
      }
    });
}
