// DataVersion.readForCall (src/db/data-version.ts) after a read that fails: the calls that follow
// read again, and never reuse the value from before the failure (found by an attack: with the read
// time kept before a SQLITE_BUSY, the next call reused the version from before a commit, and
// GetCoin answered the price from before it). Its own file: arrivals are process-wide state.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { noteArrival, transportNotesArrivals } from '../src/call/arrivals.ts';
import { sqliteDataVersion } from '../src/db/data-version.ts';

test('a read that fails is not reused: the next call reads again (and fails again) instead of answering the value from before', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-data-version-'));
  const file = join(dir, 'db.sqlite3');
  const writer = new Database(file);
  writer.exec('CREATE TABLE coin (symbol TEXT PRIMARY KEY, price INTEGER)');
  const version = sqliteDataVersion(Database, file);
  try {
    transportNotesArrivals();
    const before = version.readForCall();
    assert.equal(version.readForCall(), before, 'reused while nothing arrived');
    noteArrival(); // a request that may have seen a commit
    version.close(); // every read fails from now on
    assert.throws(() => version.readForCall(), /not open/);
    assert.throws(() => version.readForCall(), /not open/, 'the value from before the failed read was reused');
  } finally {
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
