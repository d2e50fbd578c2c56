import { Command } from 'commander';
import kleur from 'kleur';

/** cfg makemigrations --name N: write the SQL for prisma/schema.prisma's changes, per provider. */
export function makemigrationsCommand(): Command {
  return new Command('makemigrations')
    .description(
      "Write a migration (SQLite and PostgreSQL) from prisma/schema.prisma's changes since the last one, and regenerate the Prisma clients",
    )
    .requiredOption('--name <name>', 'migration name (letters, digits, underscores)')
    .action(async (opts: { name: string }) => {
      const { withDatabase } = await import('./database.ts');
      const { makeMigrations } = await import('../db/makemigrations.ts');
      const { refreshPrismaClients } = await import('../db/generate.ts');
      // The PostgreSQL diff runs on a live server: the configured one when it is PostgreSQL.
      await withDatabase(async ({ config, target }) => {
        const pgUrl = target.provider === 'postgresql' ? config.database.url.replace(/\?.*$/, '') : undefined;
        for (const m of await makeMigrations(config.root, opts.name, pgUrl)) {
          if (m.name) process.stdout.write(`${kleur.green('wrote')} prisma/migrations/${m.provider}/${m.name}/migration.sql\n`);
          else if (m.skipped) process.stdout.write(`${kleur.yellow('skipped')} ${m.provider}: ${m.skipped}\n`);
          else process.stdout.write(`${m.provider}: no changes detected\n`);
        }
        const refreshed = await refreshPrismaClients(config.root);
        if (refreshed) process.stdout.write(`${refreshed}\n`);
      });
    });
}
