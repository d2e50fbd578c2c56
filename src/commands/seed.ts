import { Command } from 'commander';

/** cfg seed: run each enabled app's apps/<label>/seed.ts. */
export function seedCommand(): Command {
  return new Command('seed')
    .description("Run each enabled app's seed (apps/<label>/seed.ts exporting seed(db)); safe to repeat")
    .action(async () => {
      const { withDatabase } = await import('./database.ts');
      const { runSeeds } = await import('../db/seed.ts');
      await withDatabase(async ({ config, db }) => {
        const seeded = await runSeeds(config, db);
        process.stdout.write(seeded.length ? `seeded: ${seeded.join(', ')}\n` : 'no app has a seed.ts\n');
      });
    });
}
