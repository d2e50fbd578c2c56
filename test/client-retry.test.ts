// The typed client's retries (grpc-js's retry policy, from the proto's idempotency_level or the
// caller's list), against real cfg servers: a method marked idempotent is retried on UNAVAILABLE
// until it answers; an unmarked one, Transfer among them, is sent once; RESOURCE_EXHAUSTED only
// when asked; the budget stops retries.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Server, ServerCredentials, status, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { CryptoServiceService } from '../generated/crypto_service.ts';
import { cryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { createClient, type ClientMiddleware } from '../src/index.ts';
import { idempotentMethods } from '../src/client/idempotency.ts';
import type { AnyDefinition } from './fixtures/client.ts';
import { importFrom } from './fixtures/project.ts';
import { greeterServers } from './support/greeter-servers.ts';

const greeter = greeterServers();
const definition = async () => (await importFrom(await greeter.project(), 'generated/greeter.ts')).GreeterService as AnyDefinition;
let n = 0;
const key = () => `k${process.pid}-${++n}`;
type Fail = (req: { kind: string }) => Promise<{ message: string }>;
const failOf = (client: unknown) => (client as { fail: Fail }).fail;

test('the crypto proto marks its reads idempotent, not Transfer or the other writes; cryptoClient retries exactly those', () => {
  const marked = idempotentMethods(new URL('../generated/descriptors.binpb', import.meta.url));
  for (const read of ['GetCoin', 'ListCoins', 'GetWallet', 'GetPortfolio', 'WatchPrices'])
    assert.ok(marked.has(`/crypto.CryptoService/${read}`), read);
  for (const write of ['Transfer', 'Deposit', 'Withdraw', 'CreateCoin', 'UpdateCoinPrice', 'DeleteCoin'])
    assert.ok(!marked.has(`/crypto.CryptoService/${write}`), write);
  const client = cryptoClient('127.0.0.1:1');
  try {
    assert.deepEqual([...client.retried].sort(), [...marked].sort());
  } finally {
    client.close();
  }
});

test('cryptoClient on the wire: GetCoin is retried on UNAVAILABLE, Transfer never is', async () => {
  // A grpc-js server with the crypto definition whose GetCoin and Transfer refuse every attempt
  // UNAVAILABLE, counting them: the real app cannot be made to refuse a Transfer on demand.
  const attempts = { getCoin: 0, transfer: 0 };
  const refuse = (name: keyof typeof attempts) => (_call: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<unknown>) => {
    attempts[name]++;
    done({ code: status.UNAVAILABLE, details: `${name} attempt ${attempts[name]} refused` });
  };
  const server = new Server();
  server.addService(CryptoServiceService, { getCoin: refuse('getCoin'), transfer: refuse('transfer') });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = cryptoClient(`127.0.0.1:${port}`, { retry: { initialBackoffMs: 10 } });
  try {
    await assert.rejects(client.getCoin({ symbol: 'BTC' }), { code: status.UNAVAILABLE, details: 'getCoin attempt 4 refused' });
    assert.equal(attempts.getCoin, 4, 'GetCoin: maxAttempts (4) attempts');
    await assert.rejects(client.transfer({ toUsername: 'bob', symbol: 'BTC', amount: '1', idempotencyKey: '' }), {
      code: status.UNAVAILABLE,
      details: 'transfer attempt 1 refused',
    });
    assert.equal(attempts.transfer, 1, 'Transfer: sent once');
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test('a method marked idempotent is retried on UNAVAILABLE (with back-off) until it answers', async () => {
  const port = await greeter.serve({});
  const ends: number[] = [];
  const count: ClientMiddleware = { name: 'count', onEnd: (_call, end) => ends.push(end.code) };
  const client = createClient(await definition(), `127.0.0.1:${port}`, {
    idempotent: ['/fixture.Greeter/Fail'],
    retry: { initialBackoffMs: 10 },
    middleware: [count],
  });
  try {
    const reply = await failOf(client)({ kind: `unavailable:2:${key()}` });
    assert.equal(reply.message, 'attempt 3', 'two refused attempts, the third answered');
    assert.deepEqual(ends, [status.OK], 'middleware sees one call, not each attempt');
  } finally {
    client.close();
  }
});

test('a method marked by the caller (retry.methods) is retried; maxAttempts bounds the attempts', async () => {
  const port = await greeter.serve({});
  const client = createClient(await definition(), `127.0.0.1:${port}`, {
    retry: { methods: ['fail'], maxAttempts: 3, initialBackoffMs: 10 },
  });
  try {
    assert.equal((await failOf(client)({ kind: `unavailable:2:${key()}` })).message, 'attempt 3');
    const k = key();
    await assert.rejects(failOf(client)({ kind: `unavailable:5:${k}` }), { code: status.UNAVAILABLE, details: 'attempt 3 refused' });
  } finally {
    client.close();
  }
});

test('an unmarked method is sent once: UNAVAILABLE comes back as it is', async () => {
  const port = await greeter.serve({});
  const client = createClient(await definition(), `127.0.0.1:${port}`, { retry: { initialBackoffMs: 10 } });
  try {
    assert.equal(client.retried.size, 0);
    const k = key();
    await assert.rejects(failOf(client)({ kind: `unavailable:1:${k}` }), { code: status.UNAVAILABLE, details: 'attempt 1 refused' });
    assert.equal(
      (await failOf(client)({ kind: `unavailable:1:${k}` })).message,
      'attempt 2',
      'the server saw one attempt for the first call',
    );
  } finally {
    client.close();
  }
});

test('RESOURCE_EXHAUSTED is retried only when asked', async () => {
  const port = await greeter.serve({});
  const plain = createClient(await definition(), `127.0.0.1:${port}`, {
    idempotent: ['/fixture.Greeter/Fail'],
    retry: { initialBackoffMs: 10 },
  });
  const asked = createClient(await definition(), `127.0.0.1:${port}`, {
    idempotent: ['/fixture.Greeter/Fail'],
    retry: { initialBackoffMs: 10, onResourceExhausted: true },
  });
  try {
    await assert.rejects(failOf(plain)({ kind: `exhausted:1:${key()}` }), {
      code: status.RESOURCE_EXHAUSTED,
      details: 'attempt 1 refused',
    });
    assert.equal((await failOf(asked)({ kind: `exhausted:1:${key()}` })).message, 'attempt 2');
  } finally {
    plain.close();
    asked.close();
  }
});

test('the retry budget: once failures have spent it, calls are no longer retried', async () => {
  const port = await greeter.serve({});
  const client = createClient(await definition(), `127.0.0.1:${port}`, {
    retry: { methods: ['fail'], maxAttempts: 2, initialBackoffMs: 10, budget: { maxTokens: 4, tokenRatio: 0.1 } },
  });
  try {
    // Each failed attempt costs a token; retries stop once the tokens are at or below half (2).
    const first = key();
    await assert.rejects(failOf(client)({ kind: `unavailable:9:${first}` }), { details: 'attempt 2 refused' });
    const second = key();
    await assert.rejects(
      failOf(client)({ kind: `unavailable:9:${second}` }),
      { details: 'attempt 1 refused' },
      'no tokens left for a retry',
    );
  } finally {
    client.close();
  }
});

test('bad retry options are refused, naming the field', async () => {
  const def = await definition();
  assert.throws(
    () => createClient(def, '127.0.0.1:1', { retry: { methods: ['nope'] } }),
    /retry\.methods: "nope" is not a method of this service/,
  );
  assert.throws(
    () => createClient(def, '127.0.0.1:1', { retry: { methods: ['fail'], maxAttempts: 9 } }),
    /retry\.maxAttempts: 9 is not an integer from 1 to 5/,
  );
  assert.throws(() => createClient(def, ['127.0.0.1:1', 'localhost:2']), /address: "localhost:2"/);
});
