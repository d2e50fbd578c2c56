// cfg-grpc/db: the database an app's services and seeds use (Prisma, SQLite or PostgreSQL).
// Nothing inside src/ imports this file.

/** The shared client of the process, and clients of one's own. */
export { getDb, closeDb, createDb, getDataVersion, sqlDriver } from '../db/client.ts';
export type { Db, CreateDbOptions, ProjectTypes, SqlDriver } from '../db/client.ts';
export type { DataVersion } from '../db/data-version.ts';

/** What apps/NAME/seed.ts exports. */
export type { SeedFn } from '../db/seed.ts';
