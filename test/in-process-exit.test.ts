// A process that served the crypto app in process (a project's own tests do) exits on its own once
// the server is stopped, on SQLite and PostgreSQL: nothing cfg started (the ledger's writer thread
// or its batches, pools, timers, watchers) keeps node alive. A leftover handle hangs a test file
// until node:test's per-file limit; this says which case it is at once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { REPO } from './fixtures/project.ts';
import { startCrypto, type CryptoEnv, type Provider } from './support/crypto-env.ts';

const apps: CryptoEnv[] = [];
after(async () => {
  for (const app of apps) await app.stop();
});

for (const provider of ['sqlite', 'postgresql'] as Provider[]) {
  test(`${provider}: after money moved through the ledger and the server stopped, node exits by itself`, async () => {
    const app = await startCrypto(provider);
    apps.push(app);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/probes/in-process-server.ts'], {
      cwd: REPO,
      env: { ...process.env, ...app.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    let stoppedAt = 0;
    child.stdout.on('data', () => {
      if (!stoppedAt && out.includes('stopped\n')) stoppedAt = performance.now();
    });
    // Generous: a loaded machine is slow, but a leaked handle never lets go at all.
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    clearTimeout(killer);
    assert.ok(stoppedAt > 0, `the probe stopped its server:\n${out}`);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `node did not exit by itself after the server stopped:\n${out}`);
    console.log(`${provider}: exited ${Math.round(performance.now() - stoppedAt)} ms after the server stopped`);
  });
}
