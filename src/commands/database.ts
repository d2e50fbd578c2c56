import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import type { DatabaseTarget } from '../db/url.ts';

/** What a command gets from withDatabase. */
export interface ProjectDatabase {
  readonly config: CfgConfig;
  /** database.url, parsed: a SQLite file or a PostgreSQL URL and schema. */
  readonly target: DatabaseTarget;
  /** The command's database handle, opened on first call (the same one after) and closed when the command ends. */
  db(): Promise<Db>;
}

/**
 * The one way a command reaches the database. Loads cfg.config.ts (E_CONFIG_NOT_FOUND outside a
 * project, before any file is created), runs `fn`, turns every database failure into one line
 * with a code and what to do (E_DB_UNREACHABLE, E_DB_ACCESS, E_DB_NOT_MIGRATED with the count of
 * unapplied migrations, E_DB; see db/command-errors.ts), and closes the client it opened.
 * A SQLite file that does not exist yet is reported as unmigrated, not created (migrate creates it).
 */
export async function withDatabase<T>(fn: (project: ProjectDatabase) => Promise<T>): Promise<T> {
  const [{ loadConfig }, { parseDatabaseUrl }, { databaseCfgError, notCreatedError }] = await Promise.all([
    import('../config/load.ts'),
    import('../db/url.ts'),
    import('../db/command-errors.ts'),
  ]);
  const config = await loadConfig();
  const target = parseDatabaseUrl(config.database.url, config.root);
  const pending = async () => (await (await import('../db/apply.ts')).migrationStatus(config.root, target)).pending.length;
  const context = { root: config.root, url: config.database.url, target, pending };
  let opened: Promise<Db> | undefined;
  let publisher: { close(): Promise<void> } | undefined;
  const db = () =>
    (opened ??= (async () => {
      if (target.provider === 'sqlite' && !(await import('node:fs')).existsSync(target.file)) throw await notCreatedError(context);
      const handle = await (await import('../db/client.ts')).openDb(config);
      // What the command changes (a key revoked, a user deactivated) is announced to the servers
      // through the deployment's event channel (docs/events.md).
      publisher = await (await import('../events/open.ts')).openPublisher(config, handle);
      return handle;
    })());
  try {
    return await fn({ config, target, db });
  } catch (err) {
    throw (await databaseCfgError(err, context)) ?? err;
  } finally {
    const handle = await opened?.catch(() => undefined);
    await publisher?.close();
    if (handle) await (await import('../db/client.ts')).closeDb(handle);
  }
}
