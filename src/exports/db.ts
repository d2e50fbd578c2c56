// cfg/db: the database handle an app's services, seeds and scripts use (Prisma, SQLite or
// PostgreSQL). Inside a server a service reads `this.db`; code outside one opens its own.
// Nothing inside src/ imports this file.

/** Opening and closing a handle, and what cfg keeps per handle. */
export { openDb, createDb, closeDb, getDb, getDataVersion, sqlDriver, dbTarget, postgresClient } from '../db/client.ts';
export type { Db, CreateDbOptions, ProjectTypes, SqlDriver } from '../db/client.ts';
export type { DataVersion } from '../db/data-version.ts';

/** What apps/NAME/seed.ts exports. */
export type { SeedFn } from '../db/seed.ts';
