// `cfg call` to an address where no server answers: one line that says so and what to check
// (is cfg rungrpc running, is the address right), exit 14 (UNAVAILABLE), instead of grpc-js's
// "No connection established ... Resolution note: ".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from './fixtures/project.ts';

test('cfg call to a port nobody listens on: one line naming the refusal and what to check, exit 14', async () => {
  // A port that was free a moment ago: bound, then released.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const r = spawnSync(
    process.execPath,
    [join(REPO, 'bin', 'cfg.js'), 'call', `127.0.0.1:${port}`, 'crypto.CryptoService/GetCoin', '{"symbol":"BTC"}'],
    { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
  );
  assert.equal(r.status, 14, r.stderr);
  assert.equal(
    r.stderr,
    `error UNAVAILABLE connect ECONNREFUSED 127.0.0.1:${port}: no server answers there (is cfg rungrpc running, and is the address host:port right?)\n`,
  );
  assert.equal(r.stdout, '');
});
