// scripts/ensure-nginx.mjs, which the load balancer test runs before starting nginx: nothing to do
// when nginx is there; when the executable named by NGINX_PATH is missing it installs nothing and
// exits 1 with the command to run. And deploy/nginx.conf, as the test rewrites it, passes `nginx -t`
// run as this user from a temp directory. (The apt-get install path runs on a fresh Debian machine as root.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureNginx, NGINX } from '../scripts/ensure-nginx.mjs';
import { REPO } from './fixtures/project.ts';
import { nginxConfig } from './support/nginx.ts';

const run = (env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, ['scripts/ensure-nginx.mjs'], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8' });

test('nginx present: exit 0, silent', () => {
  const r = run({ NGINX_PATH: process.execPath }); // any existing executable stands in
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});

test('a missing NGINX_PATH: exit 1 and what to do, nothing installed', () => {
  const r = run({ NGINX_PATH: '/nonexistent/nginx' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the load balancer test needs nginx at \/nonexistent\/nginx, which is missing\./);
  assert.match(r.stderr, /Run: unset NGINX_PATH/);
  assert.doesNotMatch(r.stderr, /apt-get install/);
});

test('deploy/nginx.conf with the test’s ports: three upstream servers, its listen port, the rest unchanged; nginx -t accepts it', () => {
  const conf = nginxConfig([41001, 41002, 41003], 41000);
  assert.deepEqual(
    [...conf.matchAll(/server 127\.0\.0\.1:(\d+) max_fails=1 fail_timeout=5s;/g)].map((m) => m[1]),
    ['41001', '41002', '41003'],
  );
  assert.match(conf, /listen 127\.0\.0\.1:41000 http2;/);
  const strip = (s: string) => s.replace(/^\s*server 127\.0\.0\.1:\d+.*\n/gm, '').replace(/listen 127\.0\.0\.1:\d+ http2;/, '');
  assert.equal(strip(conf), strip(readFileSync(join(REPO, 'deploy/nginx.conf'), 'utf8')));

  assert.ok(ensureNginx(), `nginx is needed at ${NGINX}`);
  const dir = mkdtempSync(join(tmpdir(), 'cfg-nginx-t-'));
  try {
    mkdirSync(join(dir, 'temp'));
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const r = spawnSync(NGINX, ['-t', '-p', dir, '-c', 'nginx.conf', '-e', join(dir, 'error.log')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /test is successful/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
