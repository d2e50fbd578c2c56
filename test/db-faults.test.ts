// PostgreSQL behind a TCP proxy the test cuts and restores: while it is down, calls fail fast with
// UNAVAILABLE and a clear message and health reports NOT_SERVING; when it returns, service resumes
// by itself; transfers cut mid-way are applied whole or not at all (money conserved).
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { builtinFiles } from '../src/proto/descriptors.ts';
import { startCrypto } from './support/crypto-env.ts';

/** A loopback TCP proxy to PostgreSQL that can drop every connection and refuse new ones. */
async function pgProxy() {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const open = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(5432, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await open();
  return {
    get port() {
      return port;
    },
    async cut() {
      // close() waits for open connections to end: destroy them first, or a pool that is never
      // idle (the monitor's heartbeat, calls in flight) keeps the cut from ever happening.
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: open,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}

function healthCheck(address: string): Promise<number> {
  const reg = createFileRegistry({ $typeName: 'google.protobuf.FileDescriptorSet', file: builtinFiles() } as never);
  const Req = reg.getMessage('grpc.health.v1.HealthCheckRequest')!;
  const Res = reg.getMessage('grpc.health.v1.HealthCheckResponse')!;
  const Ctor = makeGenericClientConstructor(
    { check: { path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false, requestSerialize: (m: unknown) => Buffer.from(toBinary(Req, create(Req, m as never))), requestDeserialize: (b: Buffer) => b, responseSerialize: (m: unknown) => m as Buffer, responseDeserialize: (b: Buffer) => fromBinary(Res, b) } },
    'H',
  );
  const c = new Ctor(address, credentials.createInsecure()) as unknown as { check(r: unknown, cb: (e: Error | null, v: { status: number }) => void): void; close(): void };
  return new Promise((resolve, reject) => c.check({ service: '' }, (e, v) => (c.close(), e ? reject(e) : resolve(v.status))));
}

test('database cut: UNAVAILABLE fast, health NOT_SERVING; restored: SERVING and calls succeed; money conserved', async () => {
  const proxy = await pgProxy();
  const app = await startCrypto('postgresql', {}, { serverDatabaseUrl: (url) => url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`) });
  try {
    const anon = await app.client();
    const alice = await app.client('alice');
    assert.equal((await anon.getCoin({ symbol: 'BTC' })).success, true);
    assert.equal(await healthCheck(app.address), 1);
    const before = await app.query('SELECT SUM("balanceUnits") AS t FROM crypto_wallet');

    // Transfers in flight when the database goes away.
    const inFlight = Array.from({ length: 20 }, (_, i) =>
      alice.transfer({ toUsername: 'bob', symbol: 'ETH', amount: '0.01', idempotencyKey: `cut-${i}` }).then(() => 'ok', (e: ServiceError) => e.code),
    );
    await new Promise((r) => setTimeout(r, 5));
    await proxy.cut();
    const outcomes = await Promise.all(inFlight);
    for (const o of outcomes) assert.ok(o === 'ok' || o === status.UNAVAILABLE, `transfer outcome ${o}`);

    const started = Date.now();
    const err = await anon.getCoin({ symbol: 'ETH' }, { deadline: 10_000 }).then(() => undefined, (e: ServiceError) => e);
    assert.equal(err?.code, status.UNAVAILABLE);
    assert.match(String(err?.details), /^Database unavailable: /);
    assert.doesNotMatch(String(err?.details), /postgres(ql)?:\/\/|127\.0\.0\.1/);
    assert.ok(Date.now() - started < 8000, 'failed well before the deadline');
    assert.equal(await healthCheck(app.address), 2, 'health reports NOT_SERVING while the database is down');

    await proxy.restore();
    let served = false;
    for (let i = 0; i < 100 && !served; i++) {
      served = await anon.getCoin({ symbol: 'BTC' }).then(() => true, () => false);
      if (!served) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(served, 'service resumed by itself');
    let serving = 0;
    for (let i = 0; i < 50 && serving !== 1; i++) {
      serving = await healthCheck(app.address);
      if (serving !== 1) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(serving, 1, 'health back to SERVING');
    assert.deepEqual(await app.query('SELECT SUM("balanceUnits") AS t FROM crypto_wallet'), before, 'no money created or lost');
    const rows = Number((await app.query(`SELECT COUNT(*) AS n FROM crypto_transfer WHERE "idempotencyKey" LIKE 'cut-%'`))[0]!.n);
    assert.ok(rows >= outcomes.filter((o) => o === 'ok').length, 'every acknowledged transfer is in the ledger');
  } finally {
    await app.stop();
    await proxy.close();
  }
});
