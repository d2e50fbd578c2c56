// The dependency rules (.dependency-cruiser.cjs, layer order in scripts/layers.cjs): src/ passes
// them, and each kind of rule fails when broken (an arrow up a layer, a cycle, an unlisted folder,
// an import of the public index, a value imported from a package loaded once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const config = join(root, '.dependency-cruiser.cjs');
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const { LAYERS } = createRequire(import.meta.url)(join(root, 'scripts/layers.cjs')) as { LAYERS: string[][] };

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

async function cruise(cwd: string): Promise<Violation[]> {
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, [depcruise, 'src', '--config', config, '--output-type', 'json'], {
    cwd,
    maxBuffer: 64 << 20,
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

/** A throwaway project whose src/ holds `files` (path -> source), with this repository's node_modules when asked. */
async function cruiseFiles(files: Record<string, string>, withNodeModules = false): Promise<Violation[]> {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-layers-'));
  try {
    if (withNodeModules) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    for (const [path, source] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), source);
    }
    return await cruise(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('src/ has no import cycle and no import from a higher layer', async () => {
  const violations = await cruise(root);
  assert.deepEqual(
    violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`),
    [],
  );
});

test('every folder of src/ has its place in the layer order, once', async () => {
  const { readdirSync } = await import('node:fs');
  const listed = LAYERS.flat();
  assert.equal(new Set(listed).size, listed.length, 'a folder is listed twice');
  for (const name of readdirSync(join(root, 'src'))) assert.ok(listed.includes(name), `src/${name} is not in scripts/layers.cjs`);
});

test('an import from the call core up to the server breaks the call layer rule', async () => {
  const violations = await cruiseFiles({
    'src/call/context.ts': "import { start } from '../server/start.ts';\nexport const x = start;\n",
    'src/server/start.ts': 'export const start = 1;\n',
  });
  assert.deepEqual(
    violations.map((v) => [v.rule.name, v.from, v.to]),
    [['layer-call', 'src/call/context.ts', 'src/server/start.ts']],
  );
});

test('a cycle inside one layer breaks the no-cycle rule', async () => {
  const violations = await cruiseFiles({
    'src/auth/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
    'src/auth/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
  });
  assert.deepEqual(new Set(violations.map((v) => v.rule.name)), new Set(['no-cycle']));
  assert.ok(violations.length >= 1);
});

test('a folder missing from the layer order, and an import of the public index, are refused', async () => {
  const violations = await cruiseFiles({
    'src/widgets/w.ts': "import { log } from '../log/logger.ts';\nexport const w = log;\n",
    'src/log/logger.ts': 'export const log = 1;\n',
    'src/auth/c.ts': "import { api } from '../index.ts';\nexport const c = api;\n",
    'src/index.ts': 'export const api = 1;\n',
  });
  const names = violations.map((v) => `${v.rule.name}: ${v.from}`).sort();
  // src/index.ts is in the top layer, so the auth file breaks its layer rule as well.
  assert.deepEqual(names, ['layer-auth: src/auth/c.ts', 'layer-unknown: src/widgets/w.ts', 'no-public-index-inside: src/auth/c.ts']);
});

test('a value imported from zod, @bufbuild/protobuf or jsonwebtoken breaks load-once; their types may be imported', async () => {
  const violations = await cruiseFiles(
    {
      'src/auth/v.ts': "import jwt from 'jsonwebtoken';\nexport const v = jwt;\n",
      'src/proto/w.ts':
        "import { create } from '@bufbuild/protobuf';\nimport { BinaryReader } from '@bufbuild/protobuf/wire';\nexport const w = [create, BinaryReader];\n",
      'src/config/x.ts': "import { z } from 'zod';\nexport const x = z;\n",
      'src/proto/t.ts':
        "import type { DescMessage } from '@bufbuild/protobuf';\nimport type { ZodType } from 'zod';\nexport type T = [DescMessage, ZodType];\n",
    },
    true,
  );
  // The package (and subpath) an import resolved to: ../node_modules/@bufbuild/protobuf/dist/esm/wire/index.js -> @bufbuild/protobuf/wire.
  const pkg = (to: string) =>
    to
      .replace(/^.*node_modules\//, '')
      .replace(/\/dist\/(esm|cjs)/, '')
      .replace(/\/index\.c?js$/, '');
  assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} -> ${pkg(v.to)}`).sort(), [
    'load-once: src/auth/v.ts -> jsonwebtoken',
    'load-once: src/config/x.ts -> zod',
    'load-once: src/proto/w.ts -> @bufbuild/protobuf',
    'load-once: src/proto/w.ts -> @bufbuild/protobuf/wire',
  ]);
});
