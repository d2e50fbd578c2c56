// Runs every test/**/*.test.ts file with node's test runner through tsx.
// Usage: npm test [-- <file filter substring> ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureChromium } from './ensure-chromium.mjs';

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'fixtures' || name === 'bench' || name === 'node_modules') return [];
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// Browser tests (*.browser.test.ts) drive Debian's Chromium: installed here when missing (as root),
// otherwise the run stops with the command to run. They are never skipped.
if (files.some((f) => f.includes('.browser.test.')) && !ensureChromium()) process.exit(1);
// The usual report on stdout, and each file's wall time on stderr at the end.
const reporters = [
  '--test-reporter',
  process.stdout.isTTY ? 'spec' : 'tap',
  '--test-reporter-destination',
  'stdout',
  '--test-reporter',
  './scripts/test-durations.mjs',
  '--test-reporter-destination',
  'stderr',
];
// Each file gets 300 s before it counts as hung: the slowest (package.test.ts: npm pack, then
// installs from the npm registry) took 61 s on this machine at one time and 221 s at another,
// when everything ran 2-3x slower (node -e 0: 70 vs 140 ms).
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...reporters, ...files],
  // Files run two at a time: a server a test starts from this repository's cfg.config.ts (the crypto
  // app's web listener is on 8080) takes a free web port unless the test names one.
  { stdio: 'inherit', env: { ...process.env, CFG_WEB_PORT: process.env.CFG_WEB_PORT ?? '0' } },
);
process.exit(result.status ?? 1);
