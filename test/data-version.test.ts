// The SQLite data version GetCoin's cache trusts (src/db/data-version.ts): a new value after every
// commit by any other connection, in this process or another, read at once; the same value while
// nothing commits (WAL and rollback journals); and readForCall's reuse, bounded by request
// arrivals (src/call/arrivals.ts). Real SQLite files, second connections and a second process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { noteArrival, transportCannotNoteArrivals, transportNotesArrivals } from '../src/call/arrivals.ts';
import { sqliteDataVersion } from '../src/db/data-version.ts';

function database(journalMode: 'wal' | 'delete'): { file: string; writer: Database.Database; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-data-version-'));
  const file = join(dir, 'db.sqlite3');
  const writer = new Database(file);
  writer.pragma(`journal_mode = ${journalMode}`);
  writer.exec('CREATE TABLE coin (symbol TEXT PRIMARY KEY, price INTEGER)');
  writer.prepare("INSERT INTO coin VALUES ('BTC', 0)").run();
  return {
    file,
    writer,
    done() {
      writer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const mode of ['wal', 'delete'] as const) {
  test(`${mode} journal: every commit by another connection changes the version at once (1,000 commits), and it holds still while nothing commits`, () => {
    const { file, writer, done } = database(mode);
    const version = sqliteDataVersion(Database, file);
    try {
      const update = writer.prepare("UPDATE coin SET price = ? WHERE symbol = 'BTC'");
      let last = version.read();
      assert.equal(version.read(), last, 'no commit, no change');
      for (let i = 1; i <= 1000; i++) {
        update.run(i);
        const now = version.read();
        assert.notEqual(now, last, `commit ${i} not seen`);
        assert.equal(version.read(), now, `no commit after ${i}, yet a change`);
        last = now;
      }
      // A checkpoint that empties the WAL, then a commit that starts it over.
      if (mode === 'wal') writer.pragma('wal_checkpoint(TRUNCATE)');
      last = version.read();
      update.run(-1);
      assert.notEqual(version.read(), last, 'the commit after a checkpoint not seen');
    } finally {
      version.close();
      done();
    }
  });

  test(`${mode} journal: a commit by another process is seen by the next read`, () => {
    const { file, done } = database(mode);
    const version = sqliteDataVersion(Database, file);
    try {
      const before = version.read();
      const script = `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(file)}); db.prepare("UPDATE coin SET price = 7 WHERE symbol = 'BTC'").run(); db.close();`;
      execFileSync(process.execPath, ['-e', script], { cwd: process.cwd() });
      assert.notEqual(version.read(), before);
    } finally {
      version.close();
      done();
    }
  });
}

test('readForCall: reused while no request has arrived since it was read, read again once one has; never reused before every transport notes arrivals, nor after one cannot', () => {
  const { file, writer, done } = database('wal');
  const version = sqliteDataVersion(Database, file);
  try {
    const update = writer.prepare("UPDATE coin SET price = price + 1 WHERE symbol = 'BTC'");
    // No transport has said it notes arrivals: every call reads.
    let last = version.readForCall();
    update.run();
    assert.notEqual(version.readForCall(), last, 'reused before any transport notes arrivals');

    transportNotesArrivals();
    last = version.readForCall();
    update.run();
    // The commit raced the calls that had arrived before the read: they may share it.
    assert.equal(version.readForCall(), last, 'not reused although no request arrived');
    assert.notEqual(version.read(), last, 'read() always reads');
    noteArrival();
    const after = version.readForCall();
    assert.notEqual(after, last, 'a request that arrived after the commit got the value from before it');
    assert.equal(version.readForCall(), after);

    transportCannotNoteArrivals();
    update.run();
    assert.notEqual(version.readForCall(), after, 'reused although a transport cannot note arrivals');
  } finally {
    version.close();
    done();
  }
});
