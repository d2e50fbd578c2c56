// scripts/ensure-chromium.mjs, which `npm test` runs before the browser tests: nothing to do when
// Chromium is there; when the executable named by CHROMIUM_PATH is missing it installs nothing and
// exits 1 with the command to run. (The apt-get install path runs on a fresh Debian machine as root.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { REPO } from './fixtures/project.ts';

const run = (env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, ['scripts/ensure-chromium.mjs'], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8' });

test('Chromium present: exit 0, silent', () => {
  const r = run({ CHROMIUM_PATH: process.execPath }); // any existing executable stands in
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});

test('a missing CHROMIUM_PATH: exit 1 and what to do, nothing installed', () => {
  const r = run({ CHROMIUM_PATH: '/nonexistent/chromium' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the dashboard test needs Chromium at \/nonexistent\/chromium, which is missing\./);
  assert.match(r.stderr, /Run: unset CHROMIUM_PATH/);
  assert.doesNotMatch(r.stderr, /apt-get install/);
});
