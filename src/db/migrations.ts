import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Provider } from './url.ts';

/** One folder of prisma/migrations/<provider>/: Prisma's layout (<timestamp>_<name>/migration.sql). */
export interface MigrationFile {
  name: string;
  dir: string;
  file: string;
  sql: string;
  /** sha256 of migration.sql, as Prisma records it. */
  checksum: string;
}

/** Migrations are kept per provider, since their SQL differs: prisma/migrations/sqlite, .../postgresql. */
export function migrationsDir(root: string, provider: Provider): string {
  return join(root, 'prisma', 'migrations', provider);
}

export function listMigrations(root: string, provider: Provider): MigrationFile[] {
  const base = migrationsDir(root, provider);
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(base, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const file = join(base, name, 'migration.sql');
      const sql = readFileSync(file, 'utf8');
      return { name, dir: join(base, name), file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** The schema snapshot saved beside the newest migration (what makemigrations diffs from), or null. */
export function lastSnapshot(root: string, provider: Provider): string | null {
  const all = listMigrations(root, provider);
  for (let i = all.length - 1; i >= 0; i--) {
    const snap = join(all[i]!.dir, 'schema.prisma');
    if (existsSync(snap)) return readFileSync(snap, 'utf8');
  }
  return null;
}
