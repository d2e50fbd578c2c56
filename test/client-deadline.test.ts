// The typed client's deadlines, cancellation and middleware against a real cfg server: the
// default deadline fires, a call's own deadline overrides it, a parent call's deadline and
// cancellation carry over, an AbortSignal cancels; middleware sets metadata, logs, refreshes tokens.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { authRefreshMiddleware, createClient, loggingMiddleware, metadataMiddleware, type ClientMiddleware } from '../src/index.ts';
import type { AnyDefinition } from './fixtures/client.ts';
import { importFrom, tempDir } from './fixtures/project.ts';
import { greeterServers } from './support/greeter-servers.ts';

const greeter = greeterServers();
const definition = async () => (await importFrom(await greeter.project(), 'generated/greeter.ts')).GreeterService as AnyDefinition;
type Hold = (req: { dir: string; key: string }, opts?: Record<string, unknown>) => Promise<{ message: string }>;
const holdOf = (client: unknown) => (client as { hold: Hold }).hold;

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 2000 && !existsSync(path); i++) await sleep(10);
  assert.ok(existsSync(path), `${path} appeared`);
}

test('the default deadline fires on a call that outlives it; a call with its own deadline waits longer', async () => {
  const port = await greeter.serve({});
  const dir = await tempDir();
  const client = createClient(await definition(), `127.0.0.1:${port}`, { deadlineMs: 300 });
  try {
    const started = Date.now();
    await assert.rejects(holdOf(client)({ dir, key: 'a' }), { code: status.DEADLINE_EXCEEDED });
    const took = Date.now() - started;
    console.log(`default deadline 300 ms: DEADLINE_EXCEEDED after ${took} ms`);
    assert.ok(took >= 250, `not before the deadline (${took} ms)`);
    // Its own deadline (20 s) overrides the default: released by the test, it answers.
    const held = holdOf(client)({ dir, key: 'b' }, { deadline: 20_000 });
    await waitFor(join(dir, 'started-b'));
    await sleep(400); // past the default deadline
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'release-b'), '');
    assert.equal((await held).message, 'released b');
  } finally {
    client.close();
  }
});

test("a parent call's deadline and cancellation carry over; an AbortSignal cancels", async () => {
  const port = await greeter.serve({});
  const dir = await tempDir();
  const client = createClient(await definition(), `127.0.0.1:${port}`, { deadlineMs: 60_000 });
  try {
    const parentSoon = { deadline: Date.now() + 300, signal: new AbortController().signal };
    await assert.rejects(holdOf(client)({ dir, key: 'p' }, { parent: parentSoon }), { code: status.DEADLINE_EXCEEDED });

    const parentEnds = new AbortController();
    const byParent = holdOf(client)({ dir, key: 'q' }, { parent: { deadline: Infinity, signal: parentEnds.signal } });
    await waitFor(join(dir, 'started-q'));
    parentEnds.abort();
    await assert.rejects(byParent, { code: status.CANCELLED });

    const abort = new AbortController();
    const bySignal = holdOf(client)({ dir, key: 'r' }, { signal: abort.signal });
    await waitFor(join(dir, 'started-r'));
    abort.abort();
    await assert.rejects(bySignal, { code: status.CANCELLED });
  } finally {
    client.close();
  }
});

test('middleware: metadata on every call, a log line per call with its status and server, outermost first', async () => {
  const port = await greeter.serve({});
  const order: string[] = [];
  const lines: string[] = [];
  const seen: ClientMiddleware = {
    name: 'seen',
    onStart: (call) => void order.push(`start ${call.metadata.get('x-team')[0]}`),
    onEnd: () => void order.push('end'),
  };
  const client = createClient(await definition(), `127.0.0.1:${port}`, {
    middleware: [metadataMiddleware({ 'x-team': 'blue' }), seen, loggingMiddleware((line) => lines.push(line))],
  });
  try {
    await (client as unknown as { sayHello(r: { name: string }): Promise<unknown> }).sayHello({ name: 'a' });
    await assert.rejects((client as unknown as { fail(r: { kind: string }): Promise<unknown> }).fail({ kind: 'grpc' }), {
      code: status.NOT_FOUND,
    });
    assert.deepEqual(order, ['start blue', 'end', 'start blue', 'end']);
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, new RegExp(`^/fixture\\.Greeter/SayHello OK \\d+ ms 127\\.0\\.0\\.1:${port}$`));
    assert.match(lines[1]!, /^\/fixture\.Greeter\/Fail NOT_FOUND \d+ ms/);
  } finally {
    client.close();
  }
});

test('auth refresh: one fetch shared by concurrent calls, another once the token is near its expiry; a failed fetch fails the call unsent', async () => {
  const port = await greeter.serve({});
  let fetches = 0;
  const sent: string[] = [];
  const record: ClientMiddleware = { name: 'record', onStart: (call) => void sent.push(String(call.metadata.get('authorization')[0])) };
  // t1 is good for 1.5 s, refreshed 1 s before: after 0.6 s the next call fetches t2 (good for an hour).
  const fetch = async () => ({ token: `t${++fetches}`, expiresAt: Date.now() + (fetches === 1 ? 1500 : 3_600_000) });
  const client = createClient(await definition(), `127.0.0.1:${port}`, {
    middleware: [authRefreshMiddleware(fetch, { skewMs: 1000 }), record],
  });
  const hello = (client as unknown as { sayHello(r: { name: string }): Promise<unknown> }).sayHello;
  try {
    await Promise.all([hello({ name: 'a' }), hello({ name: 'b' }), hello({ name: 'c' })]);
    assert.equal(fetches, 1);
    await sleep(600);
    await hello({ name: 'd' });
    await hello({ name: 'e' });
    assert.equal(fetches, 2);
    assert.deepEqual(sent, ['Bearer t1', 'Bearer t1', 'Bearer t1', 'Bearer t2', 'Bearer t2']);
    const failing = createClient(await definition(), `127.0.0.1:${port}`, {
      middleware: [
        authRefreshMiddleware(async () =>
          Promise.reject(Object.assign(new Error('refresh token revoked'), { code: status.UNAUTHENTICATED })),
        ),
        record,
      ],
    });
    try {
      await assert.rejects((failing as unknown as { sayHello(r: { name: string }): Promise<unknown> }).sayHello({ name: 'x' }), {
        code: status.UNAUTHENTICATED,
        details: 'refresh token revoked',
      });
      assert.equal(sent.length, 5, 'the inner middleware never saw the call: it was not sent');
    } finally {
      failing.close();
    }
  } finally {
    client.close();
  }
});
