// The PostgreSQL Prisma client type in cfg's published declarations (package.json "imports":
// "#prisma-client-postgresql"): what postgresClient(db) returns, and what src/db/portable.ts checks
// the portable type against. In cfg's own repository tsconfig.json maps it to the repository's
// generated client. A project gets the same client type as its SQLite one (ProjectTypes).
export type { PrismaClient } from './prisma-client.d.ts';
