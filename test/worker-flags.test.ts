// Which Node flags cluster workers get (src/runtime/worker-flags.ts); rungrpc.test.ts checks a
// real worker's command line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerExecArgv } from '../src/runtime/worker-flags.ts';

test('a worker per core (or more): the primary flags plus --single-threaded-gc', () => {
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], 2, 2), ['--enable-source-maps', '--single-threaded-gc']);
  assert.deepEqual(workerExecArgv([], 4, 2), ['--single-threaded-gc']);
});

test('fewer workers than cores: the flags are left as they are', () => {
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], 2, 8), ['--enable-source-maps']);
});

test('a GC threading flag the user chose wins', () => {
  for (const flag of [
    '--no-single-threaded-gc',
    '--single-threaded-gc',
    '--no-parallel-scavenge',
    '--no_concurrent_marking',
    '--single-threaded',
  ]) {
    assert.deepEqual(workerExecArgv([flag], 2, 2), [flag], flag);
  }
});
