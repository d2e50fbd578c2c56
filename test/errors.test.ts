// Every CfgError code is in one table (ERROR_CODES, src/errors.ts): src/ uses no code the table
// lacks and the table holds no code src/ does not use; each row has a one-line meaning, a hint or
// null, and an exit code; a CfgError takes its hint and exit code from its row unless the thrower
// gives its own, and templated codes word their own messages. The CLI's output of a CfgError
// (`error CODE message` + `hint ...`) is checked in cli.test.ts and by each command's tests.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { CfgError, ERROR_CODES, type CfgErrorCode } from '../src/errors.ts';
import { REPO } from './fixtures/project.ts';

const SRC = join(REPO, 'src');

/** Every quoted 'E_...' in src/ outside the table, with where it is. */
function codesInSource(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|mjs)$/.test(entry.name) && path !== join(SRC, 'errors.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/['"`](E_[A-Z][A-Z0-9_]*)['"`]/g)) {
          const at = found.get(m[1]!) ?? [];
          at.push(relative(REPO, path));
          found.set(m[1]!, at);
        }
      }
    }
  };
  walk(SRC);
  return found;
}

test('every code src/ uses is in the table, and every code in the table is used', () => {
  const used = codesInSource();
  const table = Object.keys(ERROR_CODES);
  assert.ok(used.size > 20, `the walk found the codes (${used.size})`);
  assert.deepEqual(
    [...used].filter(([code]) => !(code in ERROR_CODES)).map(([code, where]) => `${code} (${where.join(', ')})`),
    [],
    'codes used in src/ but missing from ERROR_CODES',
  );
  assert.deepEqual(
    table.filter((code) => !used.has(code)),
    [],
    'codes in ERROR_CODES that nothing in src/ uses',
  );
});

test('each row: a one-line meaning, a hint or null, an exit code from 1 to 125, a template only as a function', () => {
  for (const [code, row] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^E_[A-Z][A-Z0-9_]*$/);
    assert.match(row.meaning, /^[^\n]{10,120}$/, `${code}.meaning`);
    assert.ok(row.hint === null || /^[^\n]{3,200}$/.test(row.hint), `${code}.hint`);
    assert.ok(Number.isInteger(row.exitCode) && row.exitCode >= 1 && row.exitCode <= 125, `${code}.exitCode`);
    if ('message' in row) assert.equal(typeof row.message, 'function', `${code}.message`);
  }
});

test('a CfgError takes its hint and exit code from its row unless the thrower gives them', () => {
  const plain = new CfgError('E_APP_EXISTS', 'An app named "x" already exists.');
  assert.equal(plain.hint, ERROR_CODES.E_APP_EXISTS.hint);
  assert.equal(plain.exitCode, ERROR_CODES.E_APP_EXISTS.exitCode);
  assert.equal(plain.cause, undefined);
  const own = new CfgError('E_APP_EXISTS', 'An app named "x" already exists.', 'Pick "y".', { exitCode: 3, cause: 'why' });
  assert.deepEqual([own.hint, own.exitCode, own.cause], ['Pick "y".', 3, 'why']);
  // A code whose message says what to do has no default hint: the CLI prints one line.
  assert.equal(new CfgError('E_PORT_IN_USE', 'Port 1 on 127.0.0.1 is already in use: stop the other server.').hint, undefined);
  const codes: CfgErrorCode[] = ['E_USAGE', 'E_BIND'];
  for (const code of codes) assert.ok(new CfgError(code, 'm') instanceof Error);
});

test('templated codes word their own messages: CfgError.of', () => {
  const tls = CfgError.of('E_TLS_FILE', { field: 'key', path: '/x/key.pem', reason: 'ENOENT: no such file' });
  assert.equal(tls.code, 'E_TLS_FILE');
  assert.equal(tls.message, 'grpc.server.tls.key: cannot read /x/key.pem: ENOENT: no such file');
  assert.equal(tls.hint, 'Point it at a readable PEM file.');
  const twice = CfgError.of('E_DUPLICATE_SERVICE', { service: 'a.B', className: 'Again' }, { hint: 'Only once.' });
  assert.deepEqual([twice.message, twice.hint], ['Service a.B is registered twice (second time by Again).', 'Only once.']);
  assert.equal(CfgError.of('E_GRPC_DISABLED', {}).message, 'gRPC is disabled (grpc.enabled is false in cfg.config.ts).');
  // @ts-expect-error E_USAGE has no template: its messages differ at each place that throws it.
  assert.throws(() => CfgError.of('E_USAGE', {}));
});
