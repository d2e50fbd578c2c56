import { Command } from 'commander';

/** cfg seed: run each enabled app's apps/<label>/seed.ts. */
export function seedCommand(): Command {
  return new Command('seed')
    .description("Run each enabled app's seed (apps/<label>/seed.ts exporting seed(db)); safe to repeat")
    .action(async () => {
      const { loadConfig } = await import('../config/load.ts');
      const { getDb, closeDb } = await import('../db/client.ts');
      const { runSeeds } = await import('../db/seed.ts');
      const config = await loadConfig({ required: false });
      try {
        const seeded = await runSeeds(config, await getDb(config));
        process.stdout.write(seeded.length ? `seeded: ${seeded.join(', ')}\n` : 'no app has a seed.ts\n');
      } finally {
        await closeDb();
      }
    });
}
