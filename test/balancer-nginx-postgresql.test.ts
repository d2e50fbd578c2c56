// Behind a real load balancer (issue 18 item 5): three `cfg rungrpc` servers (separate processes)
// on one PostgreSQL, nginx in front of them run from the shipped deploy/nginx.conf (installed by
// scripts/ensure-nginx.mjs when missing). A pool of typed clients sends GetCoin and Transfer
// (unique idempotency keys) through nginx while one server is drained (SIGTERM); then the same
// with no balancer, the client's own round robin over three servers. Either way: every call ends
// OK (UNAVAILABLE before a call started is retried by the client: GetCoin as a read, Transfer with
// its idempotency key), each OK transfer is in the ledger once, and money is conserved.
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { cryptoClient, type CryptoClient, watchPricesResumed } from '../apps/crypto/grpc_services/client.ts';
import { spawnCryptoServer, type CryptoServerProcess } from './support/crypto-env.ts';
import { freePort, ms, percentile, startDeployment, type Deployment, until } from './support/deployment.ts';
import { assertLedgerMatches, balancesOf, tokensFor, type MoneyCall } from './support/money.ts';
import { startNginx, type Nginx } from './support/nginx.ts';

const USERS = ['alice', 'bob', 'carol'];
const WORKERS = 24;
const CONNECTIONS_PER_USER = 2;
const AMOUNT = '0.01';
const AMOUNT_UNITS = 1_000_000n;
/** Load before the drain starts, and after the drained server has exited. */
const BEFORE_MS = 2_500;
const AFTER_MS = 2_500;
/** WatchPrices streams through nginx in the drain test. */
const STREAMS = 12;

interface Outcome {
  kind: 'getCoin' | 'transfer';
  code: number;
  details: string;
  /** performance.now() when the call ended. */
  endedAt: number;
  durationMs: number;
  replayed?: boolean;
  key?: string;
  user?: string;
  to?: string;
}

const portOf = (address: string) => Number(address.split(':').at(-1));

/**
 * WORKERS loops over the clients, each alternating GetCoin and a Transfer to the next user (a new
 * idempotency key per transfer, retried with the same key by the client), until the drain has
 * finished and AFTER_MS more have passed. `drain` runs BEFORE_MS after the start.
 */
async function loadWithDrain(clients: Array<{ user: string; client: CryptoClient }>, keyPrefix: string, drain: () => Promise<void>) {
  const outcomes: Outcome[] = [];
  let stopAt = Number.POSITIVE_INFINITY;
  const drainTimes = { began: 0, ended: 0 };
  const worker = async (w: number) => {
    const { user, client } = clients[w % clients.length]!;
    const to = USERS[(USERS.indexOf(user) + 1 + (w % 2)) % USERS.length]!;
    for (let i = 0; performance.now() < stopAt; i++) {
      const t0 = performance.now();
      try {
        const { coin } = await client.getCoin({ symbol: 'BTC' });
        assert.equal(coin?.symbol, 'BTC');
        outcomes.push({ kind: 'getCoin', code: status.OK, details: '', endedAt: performance.now(), durationMs: performance.now() - t0 });
      } catch (err) {
        const e = err as { code: number; details: string };
        outcomes.push({
          kind: 'getCoin',
          code: e.code,
          details: e.details,
          endedAt: performance.now(),
          durationMs: performance.now() - t0,
        });
      }
      const key = `${keyPrefix}-${w}-${i}`;
      const t1 = performance.now();
      try {
        const reply = await client.transfer({ symbol: 'ETH', toUsername: to, amount: AMOUNT, idempotencyKey: key });
        outcomes.push({
          kind: 'transfer',
          code: status.OK,
          details: '',
          endedAt: performance.now(),
          durationMs: performance.now() - t1,
          replayed: reply.replayed,
          key,
          user,
          to,
        });
      } catch (err) {
        const e = err as { code: number; details: string };
        outcomes.push({
          kind: 'transfer',
          code: e.code,
          details: e.details,
          endedAt: performance.now(),
          durationMs: performance.now() - t1,
          key,
          user,
          to,
        });
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  try {
    await sleep(BEFORE_MS);
    drainTimes.began = performance.now();
    await drain();
    drainTimes.ended = performance.now();
  } finally {
    stopAt = performance.now() + AFTER_MS; // the workers stop even when the drain failed
    await Promise.all(workers);
  }
  return { outcomes, drainTimes };
}

function makeClients(address: string | string[], tokens: Record<string, string>): Array<{ user: string; client: CryptoClient }> {
  return USERS.flatMap((user) =>
    Array.from({ length: CONNECTIONS_PER_USER }, () => ({
      user,
      client: cryptoClient(address, {
        token: tokens[user]!,
        deadlineMs: 10_000,
        // Transfer carries an idempotency key: sending it again is safe (docs/money.md).
        retry: { methods: ['transfer'], maxAttempts: 5, budget: { maxTokens: 100, tokenRatio: 0.1 } },
        // A connection of its own per client (grpc-js shares subchannels between clients otherwise).
        channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
      }),
    })),
  );
}

/** Every call OK, the ledger exact, the sum of balances unchanged; a summary line. */
async function checkRun(
  t: TestContext,
  d: Deployment,
  label: string,
  keyPrefix: string,
  before: Map<string, bigint>,
  run: Awaited<ReturnType<typeof loadWithDrain>>,
) {
  const { outcomes, drainTimes } = run;
  const failed = outcomes.filter((o) => o.code !== status.OK);
  const byKind = (k: Outcome['kind']) => outcomes.filter((o) => o.kind === k);
  const afterDrain = outcomes.filter((o) => o.endedAt > drainTimes.ended && o.code === status.OK).length;
  const during = outcomes.filter((o) => o.endedAt >= drainTimes.began && o.endedAt <= drainTimes.ended);
  t.diagnostic(
    `${label}: ${byKind('getCoin').length} GetCoin, ${byKind('transfer').length} Transfer (${byKind('transfer').filter((o) => o.replayed).length} answered replayed), ` +
      `${failed.length} failed; the drain took ${ms(drainTimes.ended - drainTimes.began)}, ${during.length} calls ended during it ` +
      `(p50 ${ms(percentile(during.length ? during.map((o) => o.durationMs) : [0], 50))}, max ${ms(Math.max(0, ...during.map((o) => o.durationMs)))}); ${afterDrain} OK after it`,
  );
  assert.deepEqual(
    failed.slice(0, 10).map((o) => `${o.kind} ${status[o.code]} ${o.details}`),
    [],
    `${failed.length} call(s) failed`,
  );
  assert.ok(afterDrain >= WORKERS, `calls went on after the drain (${afterDrain})`);
  const calls: MoneyCall[] = byKind('transfer').map((o) => ({
    key: o.key!,
    kind: 'transfer',
    user: o.user!,
    to: o.to!,
    amount: AMOUNT_UNITS,
    code: o.code,
  }));
  await assertLedgerMatches(d.app, 'ETH', calls, before, `${keyPrefix}-`);
  const sum = (m: Map<string, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n);
  assert.equal(sum(await balancesOf(d.app, 'ETH')), sum(before), 'the sum of ETH balances is unchanged');
}

test('nginx with no server up answers a trailers-only UNAVAILABLE that the client retries (its default HTML 502 could not be retried)', async (t) => {
  const nginx = await startNginx([await freePort(), await freePort(), await freePort()]);
  const client = cryptoClient(nginx.address, { retry: { maxAttempts: 3, initialBackoffMs: 10 }, deadlineMs: 10_000 });
  try {
    const err = (await client.getCoin({ symbol: 'BTC' }).then(
      () => assert.fail('a call with no server up succeeded'),
      (e: unknown) => e,
    )) as { code: number; details: string };
    const lines = nginx.accessLog();
    t.diagnostic(`access log: ${lines.join(' | ')}`);
    assert.equal(err.code, status.UNAVAILABLE, err.details);
    assert.equal(lines.length, 3, `three attempts reached nginx: the client retried its UNAVAILABLE (${err.details})`);
    assert.match(err.details, /^nginx: no upstream server answered this call/);
    for (const l of lines) assert.match(l, / 204 grpc_trailer=- grpc_header=14 /, 'answered by nginx with grpc-status 14 in its headers');
    assert.match(lines[0]!, /upstream_status=502, 502, 502 /, 'the first attempt was tried on the three servers');
  } finally {
    client.close();
    await nginx.stop();
  }
});

describe('three cfg rungrpc servers on one PostgreSQL, one drained under load', () => {
  let d: Deployment;
  let tokens: Record<string, string>;
  const extra: CryptoServerProcess[] = [];
  before(async () => {
    d = await startDeployment('postgresql', { CFG_GRPC_MAX_WORKERS: '64' });
    tokens = await tokensFor(d.app, USERS);
    // Enough ETH for every transfer the runs can make: none may be refused for funds.
    for (const u of USERS) {
      const client = cryptoClient(d.app.address, { token: tokens[u]! });
      await client.deposit({ symbol: 'ETH', amount: '100000', idempotencyKey: `seed-${u}` }).finally(() => client.close());
    }
  });
  after(async () => {
    await Promise.all(extra.map((s) => s.stop()));
    await d?.stop();
  });

  test('behind nginx (deploy/nginx.conf): GetCoin and Transfer from a client pool, server B drained mid-run: no call fails, money conserved', async (t) => {
    let nginx: Nginx | undefined;
    const clients = [] as Array<{ user: string; client: CryptoClient }>;
    const closing: CryptoClient[] = [];
    const stopWatching = new AbortController();
    setMaxListeners(0, stopWatching.signal); // one listener per stream
    let watching: Promise<unknown> = Promise.resolve();
    try {
      nginx = await startNginx(d.addresses.map(portOf));
      // WatchPrices streams through nginx, opened first so that nginx's round robin puts a third
      // of them on B: the drain ends those, and watchPricesResumed opens them again through nginx.
      const watcher = cryptoClient(nginx.address, { channelOptions: { 'grpc.use_local_subchannel_pool': 1 } });
      closing.push(watcher);
      const seen: string[][] = Array.from({ length: STREAMS }, () => []);
      let resumed = 0;
      const streams = seen.map(async (got) => {
        try {
          for await (const u of watchPricesResumed(
            watcher,
            { symbols: ['XRP'] },
            { signal: stopWatching.signal, onResume: () => void resumed++ },
          ))
            got.push(u.priceUsd);
        } catch (err) {
          if (!stopWatching.signal.aborted) throw err;
        }
      });
      watching = Promise.all(streams);
      assert.ok(await until(() => seen.every((g) => g.length > 0), 20_000), 'every stream has the current price');

      clients.push(...makeClients(nginx.address, tokens));
      const before = await balancesOf(d.app, 'ETH');
      const drained = d.others[0]!;
      const run = await loadWithDrain(clients, 'lb', async () => {
        await drained.stop();
        assert.equal(drained.child.exitCode, 0, `B exited ${drained.child.exitCode}: ${drained.stderr()}`);
      });
      const lines = nginx.accessLog();
      const through = (port: number) => lines.filter((l) => l.includes(`127.0.0.1:${port}`)).length;
      // Answered by nginx's own UNAVAILABLE (deploy/nginx.conf's @grpc_unavailable: status 204
      // after an upstream error); the client retried it.
      const refused = lines.filter((l) => / 204 grpc_trailer=- grpc_header=14 /.test(l) || / 50[234] /.test(l)).length;
      const retriedInside = lines.filter((l) => /upstream_status=\S+, /.test(l)).length;
      t.diagnostic(
        `nginx: ${lines.length} calls; through A ${through(portOf(d.addresses[0]))}, B ${through(portOf(d.addresses[1]))}, C ${through(portOf(d.addresses[2]))}; ` +
          `${retriedInside} tried again on another server by nginx, ${refused} answered UNAVAILABLE by nginx (retried by the client)`,
      );
      for (const a of d.addresses) assert.ok(through(portOf(a)) > 0, `nginx sent calls to ${a}`);
      await checkRun(t, d, 'through nginx', 'lb', before, run);

      const editor = cryptoClient(nginx.address, { token: await d.app.token('editor') });
      closing.push(editor);
      await editor.updateCoinPrice({ symbol: 'XRP', priceUsd: '4321.5', change24hPercent: '' });
      const updated = await until(() => seen.every((g) => g.includes('4321.5')), 20_000);
      t.diagnostic(
        `WatchPrices through nginx: ${STREAMS} streams, ${resumed} reopened after the drain; ${seen.filter((g) => g.includes('4321.5')).length} got the price written after it`,
      );
      assert.ok(resumed >= 1, 'the drain ended the streams nginx had put on B, and they were reopened');
      assert.ok(updated, 'every stream, reopened or not, got the price written after the drain');
      assert.doesNotMatch(nginx.errorLog(), /\[(emerg|alert|crit)\]/);
    } finally {
      stopWatching.abort();
      await watching;
      for (const c of [...clients.map((c) => c.client), ...closing]) c.close();
      await nginx?.stop();
    }
  });

  test("the client's own round robin over three servers, one drained under load: no call fails, money conserved", async (t) => {
    // B is gone (the test above): D takes its place, and C is drained.
    const replacement = await spawnCryptoServer({ ...d.app.env, CFG_HTTP: '0' });
    extra.push(replacement);
    const addresses = [d.addresses[0], d.addresses[2], `127.0.0.1:${replacement.port}`];
    const clients = makeClients(addresses, tokens);
    try {
      const before = await balancesOf(d.app, 'ETH');
      const drained = d.others[1]!;
      const run = await loadWithDrain(clients, 'rr', async () => {
        await drained.stop();
        assert.equal(drained.child.exitCode, 0, `C exited ${drained.child.exitCode}: ${drained.stderr()}`);
      });
      await checkRun(t, d, 'round robin', 'rr', before, run);
    } finally {
      for (const c of clients) c.client.close();
    }
  });
});
