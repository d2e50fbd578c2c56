// Money under load: 500 transfers from 20 concurrent clients among 10 wallets on PostgreSQL keep
// the total and never go negative, conflicts never surface as INTERNAL; and SIGTERM while 100
// transfers are in flight: each completes or is refused UNAVAILABLE, none is half-applied, and
// the process exits 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { cfg, startCrypto } from './support/crypto-env.ts';

test('PostgreSQL: 500 transfers, 20 clients, 10 wallets: total conserved, none negative, no INTERNAL', { timeout: 300_000 }, async () => {
  const app = await startCrypto('postgresql');
  try {
    const users = Array.from({ length: 10 }, (_, i) => `load${i}`);
    for (const u of users) {
      await cfg(['createuser', '--username', u], app.env);
      await (await app.client(u)).deposit({ symbol: 'ETH', amount: '10', idempotencyKey: `seed-${u}` });
    }
    const total = async () => (await app.query(`SELECT SUM(w."balanceUnits") AS t FROM crypto_wallet w JOIN crypto_coin c ON c.id = w."coinId" WHERE c.symbol = 'ETH'`))[0]!.t;
    const before = await total();
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => app.client(users[i % 10])));
    let ok = 0;
    const failures: ServiceError[] = [];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    await Promise.all(
      clients.map(async (client, c) => {
        for (let i = 0; i < 25; i++) {
          const from = c % 10;
          const to = (from + 1 + Math.floor(rand() * 9)) % 10;
          const amount = (0.1 + rand() * 3).toFixed(3);
          try {
            await client.transfer({ toUsername: users[to]!, symbol: 'ETH', amount, idempotencyKey: `load-${c}-${i}` });
            ok++;
          } catch (err) {
            failures.push(err as ServiceError);
          }
        }
      }),
    );
    assert.equal(ok + failures.length, 500);
    for (const f of failures) assert.equal(f.code, status.FAILED_PRECONDITION, `${f.code} ${f.details}`);
    assert.ok(ok > 250, `${ok} applied`);
    assert.equal(await total(), before);
    assert.equal((await app.query('SELECT COUNT(*) AS n FROM crypto_wallet WHERE "balanceUnits" < 0'))[0]!.n, '0');
    assert.equal(Number((await app.query(`SELECT COUNT(*) AS n FROM crypto_transfer WHERE "idempotencyKey" LIKE 'load-%'`))[0]!.n), ok);
  } finally {
    await app.stop();
  }
});

test('SIGTERM with 100 transfers in flight: each completes or is UNAVAILABLE, none half-applied, exit 0', async () => {
  const app = await startCrypto('sqlite');
  try {
    const alice = await app.client('alice');
    const before = await app.query('SELECT SUM("balanceUnits") AS t FROM crypto_wallet');
    const calls = Array.from({ length: 100 }, (_, i) =>
      alice.transfer({ toUsername: 'bob', symbol: 'BTC', amount: '0.001', idempotencyKey: `term-${i}` }).then(
        () => 'ok' as const,
        (err: ServiceError) => err,
      ),
    );
    const exited = new Promise<number | null>((resolve) => app.child.once('exit', (code) => resolve(code)));
    setImmediate(() => app.child.kill('SIGTERM'));
    const results = await Promise.all(calls);
    const applied = results.filter((r) => r === 'ok').length;
    for (const r of results) if (r !== 'ok') assert.equal(r.code, status.UNAVAILABLE, `${r.code} ${r.details}`);
    assert.equal(await exited, 0);
    const ledger = await app.query(`SELECT COUNT(*) AS n FROM crypto_transfer WHERE "idempotencyKey" LIKE 'term-%'`);
    assert.equal(Number(ledger[0]!.n), applied, 'one ledger row per completed call, none for refused ones');
    assert.deepEqual(await app.query('SELECT SUM("balanceUnits") AS t FROM crypto_wallet'), before, 'money conserved');
  } finally {
    await app.stop();
  }
});
