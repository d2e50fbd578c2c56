// The call adapter: every kind of RPC through real grpc-js calls, and how each outcome reaches
// the client (a GrpcError as it is, anything else as a generic INTERNAL, a missing method as UNIMPLEMENTED).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { configureLogging } from '../src/log/logger.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import { GrpcError, Status } from '../src/call/error.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import type { ServiceImplementation } from '../src/services/types.ts';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });

let project: Project;
let running: RunningServer;
let client: TestClient;
let GreeterService: AnyDefinition;

before(async () => {
  project = await makeProject({ apps: ['greeter'] });
  GreeterService = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  running = await startServer(await inProcessConfig(project, ['greeter']));
  client = new TestClient(GreeterService, running.port);
});
after(async () => {
  client?.close();
  running?.server.forceShutdown();
  await project?.remove();
});

/** A bare CfgServer serving `implementation` for the Greeter definition, for shapes a typed class cannot have. */
async function withImplementation(implementation: object, fn: (c: TestClient) => Promise<void>): Promise<void> {
  const server = new CfgServer(await inProcessConfig(project, []));
  server.addService(GreeterService, implementation as ServiceImplementation<AnyDefinition>);
  const port = await server.listen('127.0.0.1', 0);
  const c = new TestClient(GreeterService, port);
  try {
    await fn(c);
  } finally {
    c.close();
    server.forceShutdown();
  }
}

test('unary: the async method returns the response', async () => {
  const reply = await client.unary('sayHello', { name: 'ada' });
  assert.deepEqual(reply, { message: 'hello ada', pid: process.pid });
});

test('server streaming: an async generator writes many messages', async () => {
  assert.deepEqual(await client.serverStream('countUp', { n: 4 }), [{ value: 1 }, { value: 2 }, { value: 3 }, { value: 4 }]);
  assert.deepEqual(await client.serverStream('countUp', { n: 0 }), []);
});

test('client streaming: the method reads every request, then answers once', async () => {
  assert.deepEqual(await client.clientStream('sum', [{ value: 2 }, { value: 3 }, { value: 5 }]), { sum: 10, count: 3 });
  assert.deepEqual(await client.clientStream('sum', []), { sum: 0, count: 0 });
});

test('bidi streaming: replies flow while requests come, and the call ends cleanly', async () => {
  const replies = await client.bidi('chat', [{ name: 'a' }, { name: 'bc' }, { name: 'd' }]);
  assert.deepEqual(
    replies.map((r) => r.message),
    ['A', 'BC', 'D'],
  );
  assert.deepEqual(await client.bidi('chat', []), []);
});

test('streaming with a writer: a method taking (request, ctx, out) writes its messages', async () => {
  type Out = { write(message: unknown): Promise<void> };
  const implementation = {
    async countUp(request: { n: number }, _ctx: unknown, out: Out) {
      for (let value = 1; value <= request.n; value++) await out.write({ value });
    },
    async chat(requests: AsyncIterable<{ name: string }>, _ctx: unknown, out: Out) {
      for await (const r of requests) await out.write({ message: `${r.name}!`, pid: 0 });
      await out.write({ message: 'bye', pid: 0 });
    },
  };
  await withImplementation(implementation, async (c) => {
    assert.deepEqual(await c.serverStream('countUp', { n: 3 }), [{ value: 1 }, { value: 2 }, { value: 3 }]);
    assert.deepEqual(
      (await c.bidi('chat', [{ name: 'x' }, { name: 'y' }])).map((r) => r.message),
      ['x!', 'y!', 'bye'],
    );
  });
});

test('a thrown GrpcError keeps its code and message', async () => {
  const err = await callError(client.unary('fail', { kind: 'grpc' }));
  assert.equal(err.code, status.NOT_FOUND);
  assert.equal(err.details, 'no greeting for you');
});

test('a BaseService abort helper ends the call with its status', async () => {
  const err = await callError(client.unary('fail', { kind: 'abort' }));
  assert.equal(err.code, status.INVALID_ARGUMENT);
  assert.equal(err.details, 'kind must be polite');
});

test('any other error becomes INTERNAL "Internal server error", its message never sent', async () => {
  const err = await callError(client.unary('fail', { kind: 'plain' }));
  assert.equal(err.code, status.INTERNAL);
  assert.equal(err.details, 'Internal server error');
  assert.doesNotMatch(JSON.stringify(err.metadata.getMap()), /hunter2/);
});

test('an RPC the class does not implement answers UNIMPLEMENTED', async () => {
  class OnlyHello {
    async sayHello() {
      return { message: 'hi', pid: 1 };
    }
  }
  await withImplementation(new OnlyHello(), async (c) => {
    assert.equal((await c.unary('sayHello', {})).message, 'hi');
    const unary = await callError(c.unary('fail', { kind: 'grpc' }));
    assert.equal(unary.code, status.UNIMPLEMENTED);
    assert.equal(unary.details, 'Method Fail is not implemented by OnlyHello');
    assert.equal((await callError(c.serverStream('countUp', { n: 1 }))).code, status.UNIMPLEMENTED);
    assert.equal((await callError(c.clientStream('sum', [{ value: 1 }]))).code, status.UNIMPLEMENTED);
    assert.equal((await callError(c.bidi('chat', [{ name: 'x' }]))).code, status.UNIMPLEMENTED);
  });
});

test('a stream that fails after some messages delivers them, then the status', async () => {
  const implementation = {
    async *countUp(request: { n: number }) {
      for (let value = 1; value <= request.n; value++) yield { value };
      throw new GrpcError(Status.FAILED_PRECONDITION, 'ran out');
    },
  };
  await withImplementation(implementation, async (c) => {
    const call = c.raw as unknown as Record<string, (...args: unknown[]) => NodeJS.EventEmitter>;
    const stream = call.countUp!({ n: 2 }, { deadline: new Date(Date.now() + 20_000) });
    const received: unknown[] = [];
    stream.on('data', (m) => received.push(m));
    const err = await new Promise<{ code: number; details: string }>((resolve) => stream.on('error', resolve));
    assert.deepEqual(received, [{ value: 1 }, { value: 2 }]);
    assert.equal(err.code, status.FAILED_PRECONDITION);
    assert.equal(err.details, 'ran out');
  });
});

test('a handler that breaks the contract is an INTERNAL error, not a hang', async () => {
  const implementation = {
    async sayHello() {
      return undefined;
    },
    countUp() {
      return [{ value: 1 }];
    },
  };
  await withImplementation(implementation, async (c) => {
    const unary = await callError(c.unary('sayHello', {}));
    assert.equal(unary.code, status.INTERNAL);
    assert.equal(unary.details, 'Internal server error');
    assert.equal((await callError(c.serverStream('countUp', { n: 1 }))).code, status.INTERNAL);
  });
});
