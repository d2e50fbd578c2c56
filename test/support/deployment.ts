// A deployment of three `cfg rungrpc` servers (separate processes) on one database, with an event
// channel between them (PostgreSQL LISTEN/NOTIFY or Redis pub/sub), for the events tests; and the
// suite run on each backend: WatchPrices across the servers, GetCoin's cache coherence (PostgreSQL),
// revocations and user changes reaching every server.
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { cryptoClient, type CryptoClient } from '../../apps/crypto/grpc_services/client.ts';
import type { PriceUpdate } from '../../generated/crypto_service.ts';
import { cfg, spawnCryptoServer, startCrypto, type CryptoEnv, type CryptoServerProcess } from './crypto-env.ts';

export type Backend = 'postgresql' | 'redis';

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The p-th percentile (0..100) of `values`. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const ms = (v: number) => `${v.toFixed(1)} ms`;

export interface Deployment {
  app: CryptoEnv;
  /** Server addresses: A (the app's own, with the HTTP side port), B, C. */
  addresses: [string, string, string];
  httpPort: number;
  others: CryptoServerProcess[];
  /** A client on server i (0: A) with its own connection. */
  client(i: number, username?: string, extra?: { metadata?: Record<string, string> }): Promise<CryptoClient>;
  stop(): Promise<void>;
}

/** Three servers on one PostgreSQL schema, the channel `backend`; `env` for all of them. */
export async function startDeployment(backend: Backend, env: NodeJS.ProcessEnv = {}): Promise<Deployment> {
  const httpPort = await freePort();
  const common = { CFG_EVENTS: backend, CFG_API_KEY_RECHECK_MS: '3600000', ...env };
  const app = await startCrypto('postgresql', { ...common, CFG_HTTP: '1', CFG_HTTP_PORT: String(httpPort) });
  const serverEnv = { ...app.env, CFG_HTTP: '0' };
  const others = await Promise.all([spawnCryptoServer(serverEnv), spawnCryptoServer(serverEnv)]);
  const addresses: [string, string, string] = [app.address, `127.0.0.1:${others[0]!.port}`, `127.0.0.1:${others[1]!.port}`];
  const clients: CryptoClient[] = [];
  return {
    app,
    addresses,
    httpPort,
    others,
    async client(i, username, extra = {}) {
      const c = cryptoClient(addresses[i]!, {
        ...(username ? { token: await app.token(username) } : {}),
        ...extra,
        channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await Promise.all(others.map((o) => o.stop()));
      await app.stop();
    },
  };
}

/** Waits until `done()` (at most `limitMs`), polling every `everyMs`; false if it never was. */
export async function until(done: () => boolean | Promise<boolean>, limitMs = 20_000, everyMs = 20): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > end) return false;
    await sleep(everyMs);
  }
}

const COINS = ['ADA', 'BTC', 'DOGE', 'ETH', 'SOL', 'XRP'];
const SUBSCRIBERS = 300;
const UPDATES = 100;
const STREAMS_PER_CONNECTION = 25;

interface Subscriber {
  server: number;
  coins: string[];
  got: Map<string, Array<{ price: string; at: number }>>;
  snapshots: number;
  error?: Error;
}

/**
 * 300 WatchPrices subscribers over the three servers (two coins each), 100 price updates written
 * round robin through the three (each coin's updates one after another, so its commit order is
 * the order written; the coins' in parallel). Every subscriber must receive every update of its
 * coins, in order, once.
 */
async function watchAcrossServers(t: TestContext, d: Deployment): Promise<void> {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal); // one listener per stream
  const connections: CryptoClient[][] = [[], [], []];
  for (let server = 0; server < 3; server++) {
    for (let i = 0; i < Math.ceil(SUBSCRIBERS / 3 / STREAMS_PER_CONNECTION); i++) connections[server]!.push(await d.client(server));
  }
  const subscribers: Subscriber[] = [];
  const streams: Promise<void>[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const server = i % 3;
    const coins = [COINS[i % COINS.length]!, COINS[(i + 1 + Math.floor(i / COINS.length)) % COINS.length]!].filter(
      (c, k, all) => all.indexOf(c) === k,
    );
    const sub: Subscriber = { server, coins, got: new Map(coins.map((c) => [c, []])), snapshots: 0 };
    subscribers.push(sub);
    const client = connections[server]![Math.floor(i / 3) % connections[server]!.length]!;
    streams.push(
      (async () => {
        try {
          for await (const u of client.watchPrices({ symbols: coins }, { signal: stop.signal }) as AsyncIterable<PriceUpdate>) {
            if (sub.snapshots < coins.length) sub.snapshots++;
            else sub.got.get(u.symbol)!.push({ price: u.priceUsd, at: performance.now() });
          }
        } catch (err) {
          if (!stop.signal.aborted) sub.error = err as Error;
        }
      })(),
    );
  }
  try {
    assert.ok(
      await until(() => subscribers.every((s) => s.snapshots === s.coins.length || s.error), 30_000),
      'every subscriber got its current prices',
    );
    assert.deepEqual(
      subscribers.filter((s) => s.error).map((s) => s.error!.message),
      [],
    );

    // 100 updates: round robin over the servers; each coin's in order, the coins' concurrently.
    const editors = await Promise.all([0, 1, 2].map((s) => d.client(s, 'editor')));
    const plan = new Map<string, Array<{ price: string; server: number }>>(COINS.map((c) => [c, []]));
    for (let k = 0; k < UPDATES; k++) plan.get(COINS[k % COINS.length]!)!.push({ price: `${1000 + k}.5`, server: k % 3 });
    const sentAt = new Map<string, number>();
    const started = performance.now();
    await Promise.all(
      [...plan].map(async ([symbol, updates]) => {
        for (const u of updates) {
          sentAt.set(`${symbol} ${u.price}`, performance.now());
          await editors[u.server]!.updateCoinPrice({ symbol, priceUsd: u.price, change24hPercent: '' });
        }
      }),
    );
    const written = performance.now() - started;
    const expected = (coin: string) => plan.get(coin)!.map((u) => u.price);
    const complete = (s: Subscriber) => s.coins.every((c) => s.got.get(c)!.length >= expected(c).length);
    await until(() => subscribers.every(complete), 30_000);

    const latencies: number[] = [];
    for (const [i, s] of subscribers.entries()) {
      for (const coin of s.coins) {
        const got = s.got.get(coin)!;
        assert.deepEqual(
          got.map((g) => g.price),
          expected(coin),
          `subscriber ${i} on server ${'ABC'[s.server]} watching ${s.coins.join(',')}: every ${coin} update once, in order`,
        );
        for (const g of got) latencies.push(g.at - sentAt.get(`${coin} ${g.price}`)!);
      }
    }
    assert.deepEqual(
      subscribers.filter((s) => s.error).map((s) => s.error!.message),
      [],
      'no stream failed',
    );
    t.diagnostic(
      `${SUBSCRIBERS} subscribers on 3 servers, ${UPDATES} updates through the 3 (written in ${ms(written)}): ${latencies.length} deliveries, ` +
        `latency from the UpdateCoinPrice call to the subscriber p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(Math.max(...latencies))}`,
    );
  } finally {
    stop.abort();
    await Promise.all(streams);
  }
}

/**
 * Updates of one coin written concurrently through the three servers (so a server's own update,
 * delivered to its streams at once, can overtake another's still on the channel): every
 * subscriber gets each of them once, all subscribers in one order (the coin's commit order, by
 * version), ending at the price the database holds.
 */
async function concurrentWritesOfOneCoin(t: TestContext, d: Deployment): Promise<void> {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const watchers = await Promise.all([0, 1, 2].map((s) => d.client(s)));
  const got: string[][] = Array.from({ length: 30 }, () => []);
  const snapshots = got.map(() => false);
  const streams = got.map(async (g, i) => {
    try {
      for await (const u of watchers[i % 3]!.watchPrices({ symbols: ['ETH'] }, { signal: stop.signal }) as AsyncIterable<PriceUpdate>) {
        if (!snapshots[i]) snapshots[i] = true;
        else g.push(u.priceUsd);
      }
    } catch (err) {
      if (!stop.signal.aborted) throw err;
    }
  });
  try {
    assert.ok(await until(() => snapshots.every(Boolean), 20_000), 'every subscriber has the current price');
    const editors = await Promise.all([0, 1, 2].map((s) => d.client(s, 'editor')));
    const prices = Array.from({ length: 60 }, (_, k) => `${3000 + k}.75`);
    await Promise.all(prices.map((price, k) => editors[k % 3]!.updateCoinPrice({ symbol: 'ETH', priceUsd: price, change24hPercent: '' })));
    const [row] = await d.app.query(`SELECT "priceUnits" FROM crypto_coin WHERE symbol = 'ETH'`);
    const final = String(Number(BigInt(String(row!.priceUnits))) / 1e8);
    await until(() => got.every((g) => g.length >= prices.length), 20_000);
    await sleep(300); // room for a duplicate to arrive, were there one
    const order = got[0]!;
    assert.deepEqual([...order].sort(), [...prices].sort(), 'subscriber 0: every update once');
    for (const [i, g] of got.entries())
      assert.deepEqual(g, order, `subscriber ${i} (server ${'ABC'[i % 3]}): the same updates in the same order`);
    assert.equal(Number(order.at(-1)), Number(final), 'ending at the committed price');
    t.diagnostic(
      `${prices.length} concurrent updates of one coin through 3 servers: ${got.length} subscribers got all, once, in one order`,
    );
  } finally {
    stop.abort();
    await Promise.allSettled(streams);
  }
}

/**
 * GetCoin on B right after UpdateCoinPrice through A answered: the new price, within the stated
 * bound (events.maxStalenessMs); measured over `trials`. B's cache holds the old price each time
 * (the previous trial read it), so a cache that missed the event would serve it.
 */
async function stalenessAcrossServers(t: TestContext, d: Deployment, trials: number, boundMs: number): Promise<void> {
  const editor = await d.client(0, 'editor');
  const reader = await d.client(1);
  const symbol = 'SOL';
  const read = async () => (await reader.getCoin({ symbol })).coin!.priceUsd;
  const waits: number[] = [];
  let stale = 0;
  await read();
  for (let i = 0; i < trials; i++) {
    const price = `${2000 + i}.25`;
    assert.equal((await read()) === price, false);
    await editor.updateCoinPrice({ symbol, priceUsd: price, change24hPercent: '' });
    const committed = performance.now();
    let reads = 0;
    for (;;) {
      reads++;
      if ((await read()) === price) break;
      assert.ok(performance.now() - committed < boundMs * 5, `trial ${i}: B never served ${price}`);
    }
    if (reads > 1) stale++;
    waits.push(performance.now() - committed);
  }
  const max = Math.max(...waits);
  t.diagnostic(
    `GetCoin on B after UpdateCoinPrice through A, ${trials} trials: new price after p50 ${ms(percentile(waits, 50))}, p99 ${ms(percentile(waits, 99))}, max ${ms(max)} ` +
      `(bound ${boundMs} ms); ${stale} trial(s) saw the old price first`,
  );
  assert.ok(max <= boundMs, `the new price within ${boundMs} ms (max ${ms(max)})`);
}

/** DELETE /api/keys/:id on A's HTTP side port, as the staff user `admin`. */
async function revokeThroughA(d: Deployment, id: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${d.httpPort}/api/keys/${id}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${await d.app.token('admin')}` },
  });
  assert.equal(res.status, 200, await res.text());
}

/** An API key revoked through A is refused by B and C within the bound (their own re-check is an hour away). */
async function revocationAcrossServers(t: TestContext, d: Deployment, boundMs: number): Promise<void> {
  const { createApiKey } = await import('../../src/auth/api-keys.ts');
  const { createDb } = await import('../../src/db/client.ts');
  const { parseDatabaseUrl } = await import('../../src/db/url.ts');
  const db = await createDb(parseDatabaseUrl(String(d.app.env.DATABASE_URL), process.cwd()), { poolSize: 1 });
  let key: string;
  let id: number;
  const [alice] = await d.app.query(`SELECT id FROM auth_user WHERE username = 'alice'`);
  try {
    ({
      key,
      apiKey: { id },
    } = await createApiKey(db, { userId: Number(alice!.id), name: 'revoked through A' }));
  } finally {
    await db.$disconnect();
  }
  const holders = await Promise.all([1, 2].map((s) => d.client(s, undefined, { metadata: { 'x-api-key': key } })));
  for (const h of holders)
    assert.equal((await h.getWallet({ symbol: 'BTC' })).wallet?.username, 'alice', 'the key works (and is cached) on B and C');
  await revokeThroughA(d, id);
  const revoked = performance.now();
  const refusedAfter: number[] = [];
  await Promise.all(
    holders.map(async (h, i) => {
      for (;;) {
        const code = await h.getWallet({ symbol: 'BTC' }).then(
          () => status.OK,
          (e: { code: number }) => e.code,
        );
        if (code === status.UNAUTHENTICATED) break;
        assert.equal(code, status.OK);
        assert.ok(performance.now() - revoked < boundMs * 5, `server ${'BC'[i]} still accepts the revoked key`);
        await sleep(1);
      }
      refusedAfter[i] = performance.now() - revoked;
    }),
  );
  t.diagnostic(
    `API key revoked through A: refused by B after ${ms(refusedAfter[0]!)}, by C after ${ms(refusedAfter[1]!)} (bound ${boundMs} ms; their re-check is every hour)`,
  );
  for (const v of refusedAfter) assert.ok(v <= boundMs, `refused within ${boundMs} ms (${ms(v)})`);
}

/**
 * A user deactivated by `cfg createuser --inactive` (a command: another process, with no server;
 * it announces through the deployment's channel) is refused by B and C within the bound; their
 * user caches would otherwise keep it for 30 s.
 */
async function userChangesAcrossServers(t: TestContext, d: Deployment, boundMs: number): Promise<void> {
  const { upsertUser } = await import('../../src/auth/manage.ts');
  const { createDb } = await import('../../src/db/client.ts');
  const { parseDatabaseUrl } = await import('../../src/db/url.ts');
  const db = await createDb(parseDatabaseUrl(String(d.app.env.DATABASE_URL), process.cwd()), { poolSize: 1 });
  try {
    await upsertUser(db, { username: 'temp-editor', perm: ['crypto.change_coin'] });
    const editors = await Promise.all([1, 2].map((s) => d.client(s, 'temp-editor')));
    for (const e of editors) await e.updateCoinPrice({ symbol: 'XRP', priceUsd: '0.75', change24hPercent: '' });
    await cfg(['createuser', '--username', 'temp-editor', '--inactive'], d.app.env);
    const changed = performance.now();
    const after: number[] = [];
    await Promise.all(
      editors.map(async (e, i) => {
        for (;;) {
          const code = await e.updateCoinPrice({ symbol: 'XRP', priceUsd: '0.75', change24hPercent: '' }).then(
            () => status.OK,
            (err: { code: number }) => err.code,
          );
          if (code === status.UNAUTHENTICATED) break;
          assert.ok(performance.now() - changed < boundMs * 5, `server ${'BC'[i]} still serves the deactivated user`);
          await sleep(1);
        }
        after[i] = performance.now() - changed;
      }),
    );
    t.diagnostic(
      `user deactivated by cfg createuser: refused by B after ${ms(after[0]!)}, by C after ${ms(after[1]!)} (bound ${boundMs} ms; the user cache keeps users 30 s)`,
    );
    for (const v of after) assert.ok(v <= boundMs, `refused within ${boundMs} ms (${ms(v)})`);
  } finally {
    await db.$disconnect();
  }
}

/** The suite on one backend: one deployment for the file (three processes start once). */
export function describeDeployment(backend: Backend): void {
  describe(`three servers, one database, events through ${backend}`, () => {
    let d: Deployment;
    before(async () => {
      d = await startDeployment(backend);
    });
    after(async () => {
      await d?.stop();
    });

    test('300 WatchPrices subscribers over 3 servers receive all 100 updates written through the 3: in order per coin, none twice', async (t) => {
      await watchAcrossServers(t, d);
    });

    test('concurrent updates of one coin through the 3 servers reach every subscriber once, in one order (commit order)', async (t) => {
      await concurrentWritesOfOneCoin(t, d);
    });

    if (backend === 'postgresql') {
      test('GetCoin on B after UpdateCoinPrice through A: the new price within events.maxStalenessMs, 1,000 trials', async (t) => {
        await stalenessAcrossServers(t, d, 1000, 1000);
      });
    }

    test('an API key revoked through A is refused by B and C within the bound', async (t) => {
      await revocationAcrossServers(t, d, 1000);
    });

    test('a user deactivated by cfg createuser (another process) is refused by B and C within the bound', async (t) => {
      await userChangesAcrossServers(t, d, 1000);
    });

    test('the monitor (grpc_server, /api/servers of the dashboard) shows each server with its process count, subscribers and channel', async () => {
      const rows = await d.app.query(`SELECT pid, processes, channel FROM grpc_server WHERE status = 'serving' ORDER BY pid`);
      assert.equal(rows.length, 3, JSON.stringify(rows));
      for (const r of rows) assert.deepEqual([r.processes, r.channel], ['1', `${backend} up`], JSON.stringify(r));
      const res = await fetch(`http://127.0.0.1:${d.httpPort}/api/servers`, {
        headers: { authorization: `Bearer ${await d.app.token('admin')}` },
      });
      const { servers } = (await res.json()) as {
        servers: Array<{ address: string; status: string; processes: number; subscribers: number; channel: string }>;
      };
      const serving = servers.filter((s) => s.status === 'serving');
      assert.equal(serving.length, 3);
      for (const s of serving)
        assert.deepEqual([s.processes, typeof s.subscribers, s.channel], [1, 'number', `${backend} up`], JSON.stringify(s));
    });
  });
}
