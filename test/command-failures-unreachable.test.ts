// Every command a user can type (the commander program walked), run as the real `cfg` in a
// project whose PostgreSQL does not answer: each one that needs the database fails with one line,
// E_DB_UNREACHABLE with host:port and where the URL came from, and no stack trace.
import { test } from 'node:test';
import { closedPort } from './support/db.ts';
import { databaseFree, runAll, unusableDatabaseProject } from './support/every-command.ts';

const { project } = unusableDatabaseProject();

test('PostgreSQL unreachable: E_DB_UNREACHABLE from every command that needs it', async () => {
  const url = `postgresql://postgres@127.0.0.1:${await closedPort()}/test`;
  await runAll(
    (argv) => project().run(argv, { DATABASE_URL: url }),
    (name) => databaseFree(name) ?? { code: 'E_DB_UNREACHABLE' },
  );
});
