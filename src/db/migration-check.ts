import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import { migrationStatus } from './apply.ts';
import { databaseCfgError, describeDatabase, unappliedText } from './command-errors.ts';
import { parseDatabaseUrl, type DatabaseTarget } from './url.ts';

export interface MigrationCheck {
  /** "SQLite var/cfg.sqlite3", "PostgreSQL 127.0.0.1:5432/test (schema s)". */
  where: string;
  applied: number;
  pending: number;
}

/**
 * How far the configured database (or `target`) is behind prisma/migrations, read without
 * changing anything. A database cfg cannot reach (or log in to) rejects with the commands'
 * one-line error (E_DB_UNREACHABLE, E_DB_ACCESS). A project without migrations is not connected to.
 */
export async function checkMigrations(
  config: CfgConfig,
  target: DatabaseTarget = parseDatabaseUrl(config.database.url, config.root),
): Promise<MigrationCheck> {
  const where = describeDatabase(target, config.root);
  try {
    const { applied, pending } = await migrationStatus(config.root, target);
    return { where, applied: applied.length, pending: pending.length };
  } catch (err) {
    const pending = () => Promise.reject(err);
    throw (await databaseCfgError(err, { root: config.root, url: config.database.url, target, pending })) ?? err;
  }
}

/** What check and rungrpc say about a database with unapplied migrations. */
export function unmigratedError(check: MigrationCheck, hint = 'cfg migrate --status lists them.'): CfgError {
  return new CfgError('E_DB_NOT_MIGRATED', `${check.where} has ${unappliedText(check.pending)}.`, hint);
}
