// Biome (biome.json) is the project's linter and formatter: the repository passes `biome ci`
// (lint and format), and the configuration does catch a broken rule and unformatted code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const biome = join(root, 'node_modules/@biomejs/biome/bin/biome');

function run(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [biome, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the repository passes biome ci: no lint finding (warnings included), every file formatted', () => {
  const { code, out } = run(['ci', '--error-on-warnings', '--reporter=summary', '.']);
  assert.equal(code, 0, `npx biome check --write . fixes formatting; lint findings need a change:\n${out}`);
});

test('biome with this configuration fails on a lint finding and on unformatted code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-lint-'));
  try {
    copyFileSync(join(root, 'biome.json'), join(dir, 'biome.json'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src/any.ts'), 'export const x: any = 1;\n');
    writeFileSync(join(dir, 'src/messy.ts'), 'export const  y = { a:1 }\n');
    const lint = run(['lint', '--error-on-warnings', '--vcs-enabled=false', 'src/any.ts'], dir);
    assert.notEqual(lint.code, 0, lint.out);
    assert.match(lint.out, /noExplicitAny/);
    const format = run(['format', '--vcs-enabled=false', 'src/messy.ts'], dir);
    assert.notEqual(format.code, 0, format.out);
    assert.match(format.out, /Formatter would have printed the following content/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
