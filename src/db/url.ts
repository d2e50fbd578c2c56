import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

/** What database.url means: a SQLite file (absolute path) or a PostgreSQL URL and schema. */
export type DatabaseTarget = { provider: 'sqlite'; file: string } | { provider: 'postgresql'; connectionString: string; schema: string };

/** "file:./var/cfg.sqlite3" is relative to the project root, as in Prisma. */
export function parseDatabaseUrl(url: string, root: string): DatabaseTarget {
  if (url.startsWith('file:')) {
    const path = url.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    const file = isAbsolute(path) ? path : resolve(root, path);
    return { provider: 'sqlite', file };
  }
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  parsed.searchParams.delete('schema');
  return { provider: 'postgresql', connectionString: parsed.toString(), schema };
}

export function ensureSqliteDir(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
}

/** The URL with its password masked, for messages. */
export function maskUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
