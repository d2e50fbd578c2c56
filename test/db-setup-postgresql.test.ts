// `cfg setup` with DATABASE_URL on PostgreSQL: it generates, and leaves the database to cfg migrate
// (an install must not fail on a server that is down). Split from db-setup.test.ts, to keep each
// file well within the per-file timeout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cryptoProject, testDatabase } from './support/db.ts';

describe('cfg setup', () => {
  test('on PostgreSQL (DATABASE_URL set) it generates but leaves the database to cfg migrate', async () => {
    const project = await cryptoProject();
    const database = await testDatabase('postgresql', project.root);
    try {
      const run = await project.run(['setup'], { DATABASE_URL: database.url }, 120_000);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /run cfg migrate/);
      assert.deepEqual(await database.tables(), []);
    } finally {
      await database.drop();
      await project.remove();
    }
  });
});
