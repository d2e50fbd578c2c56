// npm's "prepack" and "postpack" (npm pack, npm publish): what the package a project installs
// holds, made from this repository.
//   pack     builds dist/ (scripts/build.mjs), then writes the package.json that is packed: with
//            `"bin": { "cfg": "bin/cfg" }`, without this repository's scripts, dev dependencies and
//            allowScripts. The committed package.json is kept aside until `restore`.
//   restore  puts the committed package.json back.
// Why the committed package.json has no "bin": npm exec (`npx cfg`), run in a folder whose own
// package.json names a `cfg` bin, installs that folder into npm's npx cache and runs it from
// there (~15 s the first time, ~1 s more on every call; test/npx.test.ts). Here
// node_modules/.bin/cfg comes from the "cfg-cli": "file:bin" dev dependency instead; a project
// that installs the package gets it from the packed "bin".
// Removing "scripts" also keeps npm from running "prepare" (a second build) during the pack.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILE = join(ROOT, 'package.json');
const KEPT = join(ROOT, '.build', 'package.json.committed');

function restore() {
  if (existsSync(KEPT)) renameSync(KEPT, FILE);
}

const action = process.argv[2];
if (action === 'pack') {
  restore(); // a pack stopped half-way left the packed one in place
  build();
  const committed = readFileSync(FILE, 'utf8');
  const pkg = JSON.parse(committed);
  const packed = {};
  for (const [k, v] of Object.entries(pkg)) {
    if (k === 'scripts' || k === 'devDependencies' || k === 'allowScripts' || k === 'bin') continue;
    packed[k] = v;
    if (k === 'imports') packed.bin = { cfg: 'bin/cfg' };
  }
  mkdirSync(dirname(KEPT), { recursive: true });
  writeFileSync(KEPT, committed);
  writeFileSync(FILE, `${JSON.stringify(packed, null, 2)}\n`);
} else if (action === 'restore') {
  restore();
} else {
  console.error('usage: node scripts/pack-manifest.mjs pack | restore');
  process.exit(2);
}
