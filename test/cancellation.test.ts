// Deadlines and cancellation reach the handler: ctx.signal aborts when the client's deadline
// passes or it cancels, so the handler stops its work; a cancelled stream's generator is closed
// (its finally blocks run), and 1,000 subscribe/cancel cycles leave no listener behind.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { configureLogging } from '../src/log/logger.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import type { CallContext } from '../src/call/context.ts';
import type { ServiceImplementation } from '../src/services/types.ts';
import type { AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });
let project: Project;
let server: CfgServer;
let client: Record<string, (...args: unknown[]) => unknown> & { close(): void };
const seen: { aborted: string[]; finallyRan: number; active: number } = { aborted: [], finallyRan: 0, active: 0 };

before(async () => {
  project = await makeProject({ apps: [] });
  const Greeter = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  server = new CfgServer(await inProcessConfig(project, []));
  const impl = {
    /** Works until the call's signal aborts, then records why. */
    async sayHello(request: { name: string }, ctx: CallContext) {
      await once(ctx.signal, 'abort');
      seen.aborted.push(`${request.name}: ${(ctx.signal.reason as Error).message}`);
      return { message: 'too late', pid: 0 };
    },
    /** Streams forever; counts open generators. */
    async *countUp(_request: { n: number }, ctx: CallContext) {
      seen.active++;
      try {
        for (let value = 1; !ctx.signal.aborted; value++) {
          yield { value };
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        seen.active--;
        seen.finallyRan++;
      }
    },
  };
  server.addService(Greeter, impl as unknown as ServiceImplementation<AnyDefinition>);
  const port = await server.listen('127.0.0.1', 0);
  const Ctor = makeGenericClientConstructor(Greeter, 'G');
  client = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as typeof client;
});
after(async () => {
  client?.close();
  server?.forceShutdown();
  await project?.remove();
});

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

test('a client deadline aborts ctx.signal and the client gets DEADLINE_EXCEEDED', async () => {
  const err = await new Promise<ServiceError>((resolve) =>
    client.sayHello!({ name: 'deadline' }, { deadline: new Date(Date.now() + 150) }, (e: ServiceError) => resolve(e)),
  );
  assert.equal(err.code, status.DEADLINE_EXCEEDED);
  await until(() => seen.aborted.some((s) => s.startsWith('deadline: ')), 'the handler saw the abort');
});

test('a client cancel aborts ctx.signal', async () => {
  const call = client.sayHello!({ name: 'cancel' }, () => {}) as { cancel(): void };
  await new Promise((r) => setTimeout(r, 50));
  call.cancel();
  await until(() => seen.aborted.some((s) => s.startsWith('cancel: ')), 'the handler saw the cancel');
});

test('1,000 stream subscribe/cancel cycles: every generator is closed, none left open', async () => {
  const before = seen.finallyRan;
  for (let i = 0; i < 1000; i++) {
    const stream = client.countUp!({ n: 0 }) as NodeJS.EventEmitter & { cancel(): void };
    stream.on('error', () => {});
    await once(stream, 'data');
    stream.cancel();
  }
  await until(() => seen.finallyRan - before === 1000, `all 1000 generators closed (closed ${seen.finallyRan - before})`);
  assert.equal(seen.active, 0);
});
