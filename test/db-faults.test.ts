// PostgreSQL behind a TCP proxy the test cuts and restores while transfers run: while it is down,
// calls fail fast with UNAVAILABLE and a clear message and health reports NOT_SERVING; when it
// returns, service resumes by itself; a transfer cut mid-way is applied whole and answered OK, or
// not at all and answered with an error (each checked against the ledger).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import { PG_URL, startCrypto, type CryptoEnv } from './support/crypto-env.ts';
import { pgProxy } from './support/pg-proxy.ts';
import { healthCheck } from './support/health-check.ts';
import { assertLedgerMatches, balancesOf, type MoneyCall } from './support/money.ts';

/**
 * A transaction on a connection of its own (straight to PostgreSQL, not through the proxy) holding
 * `user`'s ETH wallet row, so that the ledger's next batch touching it waits inside PostgreSQL: a
 * cut made then always finds transfers mid-statement. Without it, every transfer the client still
 * had in flight at the cut could already be committed, and nothing would be cut.
 */
async function holdWallet(app: CryptoEnv, user: string) {
  const schema = new URL(String(app.env.DATABASE_URL)).searchParams.get('schema')!;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`SET search_path TO ${schema}`);
    await client.query('BEGIN');
    await client.query(
      `SELECT 1 FROM crypto_wallet w JOIN auth_user u ON u.id = w."userId" JOIN crypto_coin c ON c.id = w."coinId"
       WHERE u.username = $1 AND c.symbol = 'ETH' FOR UPDATE OF w`,
      [user],
    );
  } catch (err) {
    await client.end();
    throw err;
  }
  let released: Promise<void> | undefined;
  return {
    /** Whether another backend (the ledger's batch) waits for this lock, within 5 s. */
    async blocking(): Promise<boolean> {
      for (let i = 0; i < 500; i++) {
        const { rows } = await client.query(
          'SELECT count(*)::int AS n FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))',
        );
        if ((rows[0] as { n: number }).n > 0) return true;
        await new Promise((r) => setTimeout(r, 10));
      }
      return false;
    },
    /** Rolls back and disconnects (once; again is a no-op). */
    release(): Promise<void> {
      released ??= client.query('ROLLBACK').then(
        () => client.end(),
        () => client.end(),
      );
      return released;
    },
  };
}

test('database cut mid-transfers: UNAVAILABLE fast, health NOT_SERVING; restored: SERVING; every transfer OK and applied once, or refused and not applied', async () => {
  const proxy = await pgProxy();
  const app = await startCrypto('postgresql', {}, { serverDatabaseUrl: (url) => url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`) });
  // Set in the test; the finally block stops the loops and lets the row go whatever failed.
  let stop = false;
  let hold: Awaited<ReturnType<typeof holdWallet>> | undefined;
  try {
    const anon = await app.client();
    const clients = { alice: await app.client('alice'), bob: await app.client('bob') };
    assert.equal((await anon.getCoin({ symbol: 'BTC' })).success, true);
    assert.equal(await healthCheck(app.address), 1);
    const before = await balancesOf(app, 'ETH');

    // Transfers both ways, back to back on 8 loops, until told to stop: some are in flight when the cut comes.
    const calls: Array<MoneyCall & { started: number; ended: number }> = [];
    const loops = Array.from({ length: 8 }, async (_, loop) => {
      for (let i = 0; !stop; i++) {
        const [user, to] = loop % 2 ? (['bob', 'alice'] as const) : (['alice', 'bob'] as const);
        const call = {
          key: `cut-${loop}-${i}`,
          kind: 'transfer' as const,
          user,
          to,
          amount: 1_000_000n,
          code: -1,
          started: performance.now(),
          ended: 0,
        };
        calls.push(call);
        call.code = await clients[user]
          .transfer({ toUsername: to, symbol: 'ETH', amount: '0.01', idempotencyKey: call.key }, { deadline: 60_000 })
          .then(
            () => status.OK,
            (e: ServiceError) => e.code,
          );
        call.ended = performance.now();
      }
    });
    while (calls.filter((c) => c.code === status.OK).length < 20) await new Promise((r) => setTimeout(r, 10));
    // The cut comes while a batch of transfers waits inside PostgreSQL for alice's wallet.
    hold = await holdWallet(app, 'alice');
    assert.ok(await hold.blocking(), "the ledger's batch never waited for the held wallet");
    const cutAt = performance.now();
    await proxy.cut();
    stop = true;
    // The waiting backend then takes the lock and commits, but its answer has no way back: the
    // ledger learns the outcome by sending the batch again (same keys) once the database is back.
    await hold.release();

    const started = performance.now();
    const err = await anon.getCoin({ symbol: 'ETH' }, { deadline: 30_000 }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    // UNAVAILABLE, not DEADLINE_EXCEEDED: it failed on its own, long before its deadline.
    assert.equal(err?.code, status.UNAVAILABLE, `${err?.code} ${err?.details}`);
    assert.match(String(err?.details), /^Database unavailable: /);
    assert.doesNotMatch(String(err?.details), /postgres(ql)?:\/\/|127\.0\.0\.1/);
    console.log(`GetCoin answered UNAVAILABLE ${(performance.now() - started).toFixed(0)} ms after the cut began`);
    assert.equal(await healthCheck(app.address), 2, 'health reports NOT_SERVING while the database is down');
    // Transfers sent while it is down cannot reach it: refused at once.
    for (let i = 0; i < 4; i++) {
      const call = {
        key: `cut-down-${i}`,
        kind: 'transfer' as const,
        user: 'alice',
        to: 'bob',
        amount: 1_000_000n,
        code: -1,
        started: performance.now(),
        ended: 0,
      };
      calls.push(call);
      const e = await clients.alice
        .transfer({ toUsername: 'bob', symbol: 'ETH', amount: '0.01', idempotencyKey: call.key }, { deadline: 30_000 })
        .then(
          () => undefined,
          (x: ServiceError) => x,
        );
      call.code = e?.code ?? status.OK;
      call.ended = performance.now();
      assert.equal(call.code, status.UNAVAILABLE, `a transfer sent while the database is down: ${e?.code} ${e?.details}`);
      assert.match(String(e?.details), /^Database unavailable: /);
    }

    await proxy.restore();
    const restoredAt = performance.now();
    let served = false;
    for (let i = 0; i < 100 && !served; i++) {
      served = await anon.getCoin({ symbol: 'BTC' }).then(
        () => true,
        () => false,
      );
      if (!served) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(served, 'service resumed by itself');
    let serving = 0;
    for (let i = 0; i < 50 && serving !== 1; i++) {
      serving = await healthCheck(app.address);
      if (serving !== 1) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(serving, 1, 'health back to SERVING');

    // Transfers whose statement was on the wire when the connection died are answered once the
    // database answers again (their keys make sending them again safe): each was applied once.
    await Promise.all(loops);
    // Cut: in flight when the connections were destroyed, and not answered OK before the database
    // came back (an OK in between was already done: its answer was on its way).
    const inFlight = calls.filter((c) => c.started < cutAt && c.ended > cutAt);
    const cut = inFlight.filter((c) => c.code !== status.OK || c.ended > restoredAt);
    console.log(
      `${inFlight.length} transfer(s) in flight at the cut: ${cut.filter((c) => c.code !== status.OK).length} refused, ${cut.filter((c) => c.code === status.OK).length} answered OK after the restore, ${inFlight.length - cut.length} answered OK during the outage`,
    );
    assert.ok(cut.length > 0, 'no transfer was cut: none in flight at the cut was refused or held until the database came back');
    for (const c of calls) assert.ok(c.code === status.OK || c.code === status.UNAVAILABLE, `${c.key}: ${status[c.code]}`);
    await assertLedgerMatches(app, 'ETH', calls, before, 'cut-');
  } finally {
    stop = true;
    await hold?.release();
    await app.stop();
    await proxy.close();
  }
});
