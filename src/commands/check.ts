import { Command } from 'commander';

/** cfg check: load the config and run discovery without serving; explain what failed. */
export function checkCommand(): Command {
  return new Command('check')
    .description(
      'Load cfg.config.ts, compile the protos, type-check the services, check the database is migrated, run discovery without serving, and report per app what was found',
    )
    .action(async () => {
      const { withDatabase } = await import('./database.ts');
      const { runCheck } = await import('../discovery/check.ts');
      const ok = await withDatabase(({ config }) => runCheck(config));
      if (!ok) process.exitCode = 1;
    });
}
