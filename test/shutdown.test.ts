// Graceful shutdown of `cfg rungrpc`: SIGTERM lets an in-flight call finish and exits 0, new
// calls are refused meanwhile, the grace period bounds the wait, and a second signal forces exit.
// Open streams (server-, client-streaming, bidi) are ended at once with UNAVAILABLE "Server is
// shutting down..." while unary calls get the grace, and the process exits as the last call ends.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { SHUTTING_DOWN } from '../src/call/open-streams.ts';
import { startCrypto } from './support/crypto-env.ts';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, makeProject, type CfgProcess, type Project } from './fixtures/project.ts';

let GreeterService: AnyDefinition;
const projects: Project[] = [];
const procs: CfgProcess[] = [];
const clients: TestClient[] = [];

before(async () => {
  const p = await makeProject();
  projects.push(p);
  GreeterService = (await importFrom(p, 'generated/greeter.ts')).GreeterService as AnyDefinition;
});
after(async () => {
  for (const c of clients) c.close();
  for (const proc of procs) await proc.stop();
  for (const p of projects) await p.remove();
});

async function serve(config: Record<string, unknown> = {}): Promise<{ project: Project; proc: CfgProcess; port: number }> {
  const project = await makeProject({ apps: ['greeter'], config });
  projects.push(project);
  const proc = project.spawn(['rungrpc']);
  procs.push(proc);
  return { project, proc, port: await proc.port() };
}

function client(port: number): TestClient {
  const c = new TestClient(GreeterService, port);
  clients.push(c);
  return c;
}

/** Starts a Hold call and waits until its handler runs. */
async function holdInFlight(project: Project, port: number, key: string): Promise<{ call: Promise<Record<string, unknown>> }> {
  const call = client(port).unary('hold', { dir: project.root, key });
  call.catch(() => {}); // observed by the test later
  for (let i = 0; i < 2000 && !existsSync(project.path(`started-${key}`)); i++) await sleep(10);
  assert.ok(existsSync(project.path(`started-${key}`)), 'the held call reached its handler');
  return { call }; // wrapped: an async function returning the promise itself would wait for it
}

test('SIGTERM: new calls are refused, the call in flight finishes, the process exits 0', async () => {
  const { project, proc, port } = await serve();
  const { call: held } = await holdInFlight(project, port, 'a');
  proc.kill('SIGTERM');
  await proc.waitFor('stderr', /SIGTERM: shutting down/);

  // The server no longer takes calls (a fresh connection is refused), while the held call runs on.
  let refused: number | undefined;
  for (let i = 0; i < 200 && refused === undefined; i++) {
    const fresh = new TestClient(GreeterService, port, { 'grpc.use_local_subchannel_pool': 1 });
    try {
      await fresh.unary('sayHello', { name: 'late' });
    } catch (err) {
      refused = (err as { code: number }).code;
    } finally {
      fresh.close();
    }
  }
  assert.equal(refused, status.UNAVAILABLE);
  assert.equal(proc.running, true, 'still draining the held call');

  await writeFile(project.path('release-a'), '');
  assert.equal((await held).message, 'released a');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
  assert.match(proc.stderr, /"msg":"stopped"/);
});

test('a second signal forces the exit while a call is still in flight', async () => {
  const { project, proc, port } = await serve();
  const { call: held } = await holdInFlight(project, port, 'b');
  proc.kill('SIGTERM');
  await proc.waitFor('stderr', /shutting down/);
  proc.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 1, signal: null });
  assert.match(proc.stderr, /SIGTERM again: exiting now/);
  await assert.rejects(held);
});

test('the grace period bounds the wait: calls still running are cancelled, then exit 0', async () => {
  const { project, proc, port } = await serve({ grpc: { server: { shutdownGraceMs: 200 } } });
  const { call: held } = await holdInFlight(project, port, 'c');
  proc.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
  assert.match(proc.stderr, /calls still running after 200 ms: cancelling them/);
  const err = await callError(held);
  assert.ok([status.CANCELLED, status.UNAVAILABLE].includes(err.code), `held call ended with ${err.code}`);
});

test('SIGINT stops an idle server with exit 0', async () => {
  const { proc } = await serve();
  proc.kill('SIGINT');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
  assert.match(proc.stderr, /SIGINT: shutting down/);
});

/** A streaming call of the raw grpc-js client: what the drain test needs of it. */
interface OpenCall extends NodeJS.EventEmitter {
  write(message: unknown): boolean;
}
type RawMethods = Record<string, (...args: unknown[]) => OpenCall>;

/** Resolves with the error a streaming call ends with, and the ms from `since()` to it. */
function endOf(call: OpenCall, since: () => number): Promise<{ err: ServiceError; ms: number }> {
  return new Promise((resolve, reject) => {
    call.on('data', () => {});
    call.once('error', (err: ServiceError) => resolve({ err, ms: performance.now() - since() }));
    call.once('end', () => reject(new Error('the stream ended without an error status')));
  });
}

test('SIGTERM ends open streams at once with UNAVAILABLE, unary calls finish, exit 0 well before the grace', async () => {
  const GRACE = 60_000;
  const { project, proc, port } = await serve({ grpc: { server: { shutdownGraceMs: GRACE } } });
  const held = [await holdInFlight(project, port, 'd1'), await holdInFlight(project, port, 'd2')];
  const raw = client(port).raw as unknown as RawMethods;
  let signalledAt = 0;
  const since = () => signalledAt;
  // A client stream that has sent one message, then (on the same connection, so the server has
  // started Sum once it answers Chat) a bidi stream that has exchanged one: both stay open.
  const sumEnd = new Promise<{ err: ServiceError; ms: number }>((resolve, reject) => {
    const sum = raw.sum!((err: ServiceError | null) =>
      err ? resolve({ err, ms: performance.now() - signalledAt }) : reject(new Error('Sum succeeded')),
    );
    sum.write({ value: 1 });
  });
  const chat = raw.chat!();
  const chatReply = new Promise((resolve) => chat.once('data', resolve));
  const chatEnd = endOf(chat, since);
  chat.write({ name: 'hi' });
  await chatReply;

  signalledAt = performance.now();
  proc.kill('SIGTERM');
  const bound = new AbortController();
  const stillOpen = sleep(GRACE / 4, undefined, { signal: bound.signal }).then(() =>
    Promise.reject(new Error(`the streams were still open ${GRACE / 4} ms after SIGTERM`)),
  );
  stillOpen.catch(() => {});
  const [c, s] = await Promise.race([Promise.all([chatEnd, sumEnd]), stillOpen]).finally(() => bound.abort());
  for (const [name, end] of [
    ['Chat (bidi)', c],
    ['Sum (client streaming)', s],
  ] as const) {
    assert.equal(end.err.code, status.UNAVAILABLE, `${name}: ${end.err.code} ${end.err.details}`);
    assert.equal(end.err.details, SHUTTING_DOWN, name);
    console.log(`${name} ended ${end.ms.toFixed(0)} ms after SIGTERM`);
    assert.ok(end.ms < GRACE / 4, `${name}: ended after ${end.ms.toFixed(0)} ms, not at once`);
  }
  assert.equal(proc.running, true, 'the unary calls in flight keep the process up');
  await proc.waitFor('stderr', /ended 2 open stream\(s\) with UNAVAILABLE/);

  const releasedAt = performance.now();
  for (const key of ['d1', 'd2']) await writeFile(project.path(`release-${key}`), '');
  assert.deepEqual(await Promise.all(held.map((h) => h.call.then((r) => r.message))), ['released d1', 'released d2']);
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
  const exitMs = performance.now() - releasedAt;
  console.log(
    `exited ${exitMs.toFixed(0)} ms after the last unary call was released (${(performance.now() - signalledAt).toFixed(0)} ms after SIGTERM; grace ${GRACE} ms)`,
  );
  assert.ok(performance.now() - signalledAt < GRACE / 2, 'exited well before the grace ran out');
  assert.doesNotMatch(proc.stderr, /calls still running after/);
});

test('crypto: SIGTERM with WatchPrices open and 99 Transfers in flight (every stream of the connection): the stream ends UNAVAILABLE at once, transfers succeed, exit 0', async () => {
  const app = await startCrypto('sqlite');
  try {
    const watcher = await app.client();
    const stream = watcher.watchPrices({ symbols: [] })[Symbol.asyncIterator]();
    assert.ok((await stream.next()).value, 'subscribed: the current prices came');
    const drainRest = (async () => {
      for (;;) if ((await stream.next()).done) throw new Error('WatchPrices ended without an error status');
    })();
    const alice = await app.client('alice');
    await alice.getWallet({ symbol: 'BTC' }); // the channel is connected: the transfers go out at once
    // The clients share one connection (grpc-js keeps one subchannel per target), which the server
    // allows 100 concurrent streams (grpc.server.maxConcurrentStreams): WatchPrices holds one, so 99
    // transfers are all in flight at once. A 100th would wait in the client for a free stream and
    // reach the server only after the drain began: refused UNAVAILABLE (never applied), rightly.
    const N = 99;
    let done = 0;
    const transfers = Array.from({ length: N }, (_, i) =>
      alice.transfer({ toUsername: 'bob', symbol: 'BTC', amount: '0.001', idempotencyKey: `drain-${i}` }).finally(() => done++),
    );
    // All were sent in one turn, before any answer could come: once one is answered the server
    // has them (a call it had not read yet would be refused by the GOAWAY, and fail this test).
    await Promise.race(transfers);
    const exited = new Promise<number | null>((resolve) => app.child.once('exit', resolve));
    const signalledAt = performance.now();
    app.child.kill('SIGTERM');
    const doneAtSignal = done;
    const err = (await drainRest.then(
      () => undefined,
      (e: ServiceError) => e,
    ))!;
    const streamMs = performance.now() - signalledAt;
    assert.equal(err.code, status.UNAVAILABLE, `${err.code} ${err.details}`);
    assert.equal(err.details, SHUTTING_DOWN);
    const results = await Promise.allSettled(transfers);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(
      failed.length,
      0,
      `transfers failed: ${failed
        .map((r) => String((r as PromiseRejectedResult).reason))
        .slice(0, 3)
        .join('; ')}`,
    );
    assert.equal(await exited, 0);
    const exitMs = performance.now() - signalledAt;
    console.log(
      `WatchPrices ended ${streamMs.toFixed(0)} ms after SIGTERM; ${N} transfers OK (${N - doneAtSignal} still in flight at SIGTERM); exited ${exitMs.toFixed(0)} ms after SIGTERM (grace 10000 ms)`,
    );
    assert.ok(exitMs < 5000, `exit took ${exitMs.toFixed(0)} ms; the 10 s grace must not be waited out`);
    assert.match(app.logs(), /ended 1 open stream\(s\) with UNAVAILABLE/);
    assert.doesNotMatch(app.logs(), /calls still running after/);
  } finally {
    await app.stop();
  }
});
