import { Command } from 'commander';
import kleur from 'kleur';

/** cfg migrate [--status]: apply prisma/migrations/<provider> to the configured database. */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description(
      'Apply pending migrations (prisma/migrations/<provider>) to the configured database; regenerate the Prisma clients if prisma/schema.prisma changed',
    )
    .option('--status', 'show applied and pending migrations, change nothing')
    .action(async (opts: { status?: boolean }) => {
      const { withDatabase } = await import('./database.ts');
      const { maskUrl } = await import('../db/url.ts');
      const { applyMigrations, migrationStatus } = await import('../db/apply.ts');
      const { refreshPrismaClients } = await import('../db/generate.ts');
      await withDatabase(async ({ config, target }) => {
        const where = `${target.provider} ${maskUrl(config.database.url)}`;
        if (opts.status) {
          const s = await migrationStatus(config.root, target);
          process.stdout.write(`${kleur.bold('migrations')} on ${where}\n`);
          for (const a of s.applied)
            process.stdout.write(
              `  ${kleur.green('applied')}  ${a.name}${a.checksumMatches ? '' : kleur.yellow('  (migration.sql changed since it was applied)')}\n`,
            );
          for (const p of s.pending) process.stdout.write(`  ${kleur.yellow('pending')}  ${p.name}\n`);
          if (s.applied.length + s.pending.length === 0) process.stdout.write('  none\n');
          return;
        }
        const applied = await applyMigrations(config.root, target, (name) => process.stdout.write(`${kleur.green('applied')} ${name}\n`));
        process.stdout.write(
          applied.length ? `${applied.length} migration(s) applied to ${where}\n` : `No migrations to apply (${where} is up to date)\n`,
        );
        const refreshed = await refreshPrismaClients(config.root);
        if (refreshed) process.stdout.write(`${refreshed}\n`);
      });
    });
}
