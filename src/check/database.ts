import type { CfgConfig } from '../config/types.ts';
import type { Report } from './report.ts';

/**
 * The database: reachable, and every migration of prisma/migrations applied. rungrpc refuses to
 * start otherwise, with the same message (E_DB_UNREACHABLE, E_DB_NOT_MIGRATED ...).
 */
export async function checkDatabase(cfg: CfgConfig, report: Report): Promise<void> {
  const { checkMigrations, unmigratedError } = await import('../db/migration-check.ts');
  try {
    const m = await checkMigrations(cfg);
    if (m.pending > 0) report.fail('database', unmigratedError(m));
    else
      report.good(
        'database',
        `${m.where}: ${m.applied ? `${m.applied} migration(s) applied, none pending` : 'no migrations in prisma/migrations'}`,
      );
  } catch (err) {
    report.fail('database', err);
  }
}
