// Every command a user can type (the commander program walked), run as the real `cfg` on an SQLite
// database with no migration applied: each one that needs it fails with one line,
// E_DB_NOT_MIGRATED with the count of unapplied migrations, no stack trace, and creates no
// database file. (PostgreSQL: command-failures-unmigrated-postgresql.test.ts; one walk per file
// keeps each well under node:test's per-file limit.)
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { onUnmigrated, runAll, unusableDatabaseProject } from './support/every-command.ts';

const { project } = unusableDatabaseProject();

test('SQLite not migrated: E_DB_NOT_MIGRATED with the count, and no database file created', async () => {
  await runAll(async (argv, slug) => {
    const r = await project().run(argv, { DATABASE_URL: `file:./var/${slug}.sqlite3` });
    if (!['migrate', 'makemigrations'].includes(slug))
      assert.ok(!existsSync(project().path('var', `${slug}.sqlite3`)), `${slug} created its database file`);
    return r;
  }, onUnmigrated);
});
