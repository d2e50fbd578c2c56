// Observers (onStart/onEnd) on a real in-process server are told the status the client got,
// including for a call whose client gave up (its deadline passed) while the method was still
// running and that the method then finished normally: CANCELLED, not OK.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { credentials, makeGenericClientConstructor, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { CallEnd, Interceptor } from '../src/call/interceptor.ts';
import { configureLogging } from '../src/log/logger.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import type { ServiceImplementation } from '../src/services/types.ts';
import type { AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });
let project: Project;
let server: CfgServer;
let port: number;
let Greeter: AnyDefinition;
const ends: Array<[string, CallEnd]> = [];
let ended: () => void = () => {};
let reached: () => void = () => {};

before(async () => {
  project = await makeProject({ apps: ['greeter'] });
  Greeter = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  const { Greeter: Impl } = (await importFrom(project, 'apps/greeter/grpc_services/greeter_service.ts')) as {
    Greeter: new () => Record<string, unknown>;
  };
  const observer: Interceptor = {
    name: 'observer',
    onEnd(ctx, end) {
      ends.push([ctx.method.name, end]);
      ended();
    },
  };
  const impl = new Impl();
  // Ignores cancellation on purpose: it answers 300 ms after the call's deadline whatever happened to the call.
  impl.sayHello = async (request: { name: string }, ctx: { deadline: Date | number }) => {
    reached();
    await sleep(Math.max(0, +ctx.deadline - Date.now()) + 300);
    return { message: `late hello ${request.name}`, pid: process.pid };
  };
  server = new CfgServer(await inProcessConfig(project, ['greeter']), { interceptors: [observer] });
  server.addService(Greeter, impl as unknown as ServiceImplementation<AnyDefinition>);
  port = await server.listen('127.0.0.1', 0);
});
after(async () => {
  server?.forceShutdown();
  await project?.remove();
});

test('a call whose deadline passed while its method ran is observed as CANCELLED', async () => {
  const Client = makeGenericClientConstructor(Greeter as never, 'Greeter');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as Record<string, (...a: unknown[]) => void>;
  const observed = new Promise<void>((resolve) => (ended = resolve));
  let inMethod = false;
  reached = () => (inMethod = true);
  // A deadline the call reaches the method within even on a loaded machine (a call that expires on
  // its way never runs, and is not this test's case).
  const err = await new Promise<ServiceError | null>((resolve) =>
    client.sayHello!({ name: 'x' }, new Metadata(), { deadline: Date.now() + 2000 }, (e: ServiceError | null) => resolve(e)),
  );
  assert.equal(err?.code, status.DEADLINE_EXCEEDED);
  assert.ok(inMethod, 'the call reached the method before its deadline');
  await observed;
  const [method, end] = ends.at(-1)!;
  assert.equal(method, 'SayHello');
  assert.equal(end.code, status.CANCELLED);
  assert.equal(end.responseSize, null);
  assert.ok(end.durationMs >= 250, `the observer saw the call end when the method returned (${end.durationMs} ms)`);
  (client as unknown as { close(): void }).close();
});
