// Typed per-call values (createContextKey, ctx.values) on a real server: an interceptor sets a
// value under the key it owns and the handler reads it, typed, on unary and streaming calls; a
// key nobody set reads as its default; two keys with the same name are two keys; an observer sees
// after the call what an inner interceptor set during it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CallContext } from '../src/call/context.ts';
import type { CallEnd, Interceptor } from '../src/call/interceptor.ts';
import { createContextKey } from '../src/call/values.ts';
import { configureLogging } from '../src/log/logger.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import type { ServiceImplementation } from '../src/services/types.ts';
import { TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });

/** The number of the call, owned by the `numbering` interceptor. */
const CALL_NO = createContextKey<number>('test.callNo', 0);
/** Set by no one. */
const TENANT = createContextKey<string | null>('test.tenant', null);
/** Two keys with one name. */
const FIRST = createContextKey<string>('test.same', 'first default');
const SECOND = createContextKey<string>('test.same', 'second default');

let calls = 0;
const numbering: Interceptor = {
  name: 'numbering',
  async intercept(ctx, next) {
    ctx.values.set(CALL_NO, ++calls).set(FIRST, 'set by numbering');
    await next(ctx);
  },
};
const seenAtEnd: Array<{ callNo: number; code: number }> = [];
const observer: Interceptor = {
  name: 'observer',
  onEnd(ctx: CallContext, end: CallEnd) {
    seenAtEnd.push({ callNo: ctx.values.get(CALL_NO), code: end.code });
  },
};

/** What the handlers report of the call's values. */
function report(ctx: CallContext): string {
  const callNo: number = ctx.values.get(CALL_NO);
  const tenant: string | null = ctx.values.get(TENANT);
  const before = [ctx.values.get(FIRST), ctx.values.get(SECOND), ctx.values.has(SECOND)];
  ctx.values.set(SECOND, 'set by handler');
  const afterSet = [ctx.values.get(FIRST), ctx.values.get(SECOND)];
  ctx.values.delete(FIRST);
  const afterDelete = ctx.values.get(FIRST);
  // The same for the value set first (held apart from the others): deleted, default; set again, back.
  ctx.values.delete(CALL_NO);
  const firstDeleted = [ctx.values.get(CALL_NO), ctx.values.has(CALL_NO)];
  ctx.values.set(CALL_NO, 42);
  const firstSetAgain = [ctx.values.get(CALL_NO), ctx.values.get(SECOND)];
  return JSON.stringify({ callNo, tenant, hasTenant: ctx.values.has(TENANT), before, afterSet, afterDelete, firstDeleted, firstSetAgain });
}
const reported = async (name: string) => JSON.parse(String((await client.unary('sayHello', { name })).message));

/** Never called: the compiler checks that a key's value has the key's type. */
export function typed(ctx: CallContext): void {
  // @ts-expect-error CALL_NO holds a number
  ctx.values.set(CALL_NO, 'seven');
  // @ts-expect-error TENANT reads as string | null, not number
  const n: number = ctx.values.get(TENANT);
  void n;
}

const implementation = {
  async sayHello(_request: { name: string }, ctx: CallContext) {
    return { message: report(ctx), pid: 0 };
  },
  async *countUp(request: { n: number }, ctx: CallContext) {
    for (let i = 0; i < request.n; i++) yield { value: ctx.values.get(CALL_NO) };
  },
};

let project: Project;
let server: CfgServer;
let client: TestClient;

before(async () => {
  project = await makeProject({ apps: [] });
  const Greeter = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  server = new CfgServer(await inProcessConfig(project, []), { interceptors: [observer, numbering] });
  server.addService(Greeter, implementation as unknown as ServiceImplementation<AnyDefinition>);
  client = new TestClient(Greeter, await server.listen('127.0.0.1', 0));
});
after(async () => {
  client?.close();
  server?.forceShutdown();
  await project?.remove();
});

test('an interceptor sets a typed value under its key and the handler reads it', async () => {
  assert.equal((await reported('a')).callNo, 1);
  assert.equal((await reported('b')).callNo, 2);
  // A streaming call gets its own value too.
  assert.deepEqual(await client.serverStream('countUp', { n: 2 }), [{ value: 3 }, { value: 3 }]);
});

test('a key no one set reads as its default, and a deleted value as the default again', async () => {
  const r = await reported('x');
  assert.equal(r.tenant, null);
  assert.equal(r.hasTenant, false);
  assert.equal(r.afterDelete, 'first default');
  assert.deepEqual(r.firstDeleted, [0, false]);
  assert.deepEqual(r.firstSetAgain, [42, 'set by handler']);
});

test('two keys with the same name do not collide', async () => {
  const r = await reported('x');
  assert.deepEqual(r.before, ['set by numbering', 'second default', false]);
  assert.deepEqual(r.afterSet, ['set by numbering', 'set by handler']);
});

test('an observer sees, after the call, the value an inner interceptor set during it', async () => {
  seenAtEnd.length = 0;
  await client.serverStream('countUp', { n: 1 });
  assert.deepEqual(seenAtEnd, [{ callNo: calls, code: 0 }]);
});
