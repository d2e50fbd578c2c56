// The interceptor pipeline (src/interceptors/pipeline.ts) on a real server: the chain is built in
// PIPELINE order; extra interceptors go into their named slot (the metrics slot sees calls that
// auth refuses and errors any layer throws, already classified as the client will see them);
// project interceptors run innermost with the authenticated caller; every interceptor is closed
// once the server has drained.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { buildInterceptors, PIPELINE } from '../src/interceptors/pipeline.ts';
import { closeDb, openDb } from '../src/db/client.ts';
import { authOf } from '../src/auth/caller.ts';
import type { Interceptor } from '../src/call/interceptor.ts';
import { configureLogging } from '../src/log/logger.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { classify } from '../src/call/boundary.ts';
import { callError, TestClient } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });

test('the chain follows PIPELINE: logging, requestLog, metrics, tracing, concurrency, auth, project', async () => {
  assert.deepEqual([...PIPELINE], ['logging', 'requestLog', 'metrics', 'tracing', 'concurrency', 'auth', 'project']);
  const project = await makeProject({ apps: [] });
  try {
    const named = (name: string): Interceptor => ({ name, intercept: (ctx, next) => next(ctx) });
    const config = await inProcessConfig(project, [], {
      grpc: {
        server: { tracing: true, interceptors: [named('project-1'), named('project-2')] },
        auth: { enabled: true, jwtSecretKey: 's' },
        requestLog: { enabled: true },
        monitor: { enabled: false },
      },
      logging: { logCalls: true },
    });
    // Auth reads users and API keys through the server's database handle: required with auth on.
    await assert.rejects(buildInterceptors(config), /grpc\.auth is enabled .*pass the server's handle, \{ db \}/);
    const db = await openDb(config);
    try {
      const chain = await buildInterceptors(config, {
        db,
        extra: { metrics: [named('metrics')], auth: [named('after-auth')], project: [named('last')] },
      });
      assert.deepEqual(
        chain.map((i) => i.name),
        ['call-logger', 'request-log', 'metrics', 'tracing', 'concurrency', 'auth', 'after-auth', 'project-1', 'project-2', 'last'],
      );
      for (const i of chain) await i.close?.();
    } finally {
      await closeDb(db);
    }
    // Settings that are off leave their slot empty; auth off leaves the interceptor that refuses what needs a user.
    const bare = await inProcessConfig(project, [], { grpc: { auth: { enabled: false } }, logging: { logCalls: false } });
    assert.deepEqual(
      (await buildInterceptors(bare)).map((i) => i.name),
      ['concurrency', 'auth-disabled'],
    );
  } finally {
    await project.remove();
  }
});

describe('on a real server', () => {
  let project: Project;
  let running: RunningServer;
  let client: TestClient;
  const seen: string[] = [];
  const metrics: Array<[string, string]> = [];
  let closed = 0;
  let inFlightAtClose = -1;
  let inFlight = 0;

  const metricsInterceptor: Interceptor = {
    name: 'test-metrics',
    async intercept(ctx, next) {
      inFlight++;
      let code = 'OK';
      try {
        await next(ctx);
      } catch (err) {
        code = status[classify(err).code]!;
        throw err;
      } finally {
        inFlight--;
        metrics.push([ctx.method.name, code]);
      }
    },
    close() {
      closed++;
      inFlightAtClose = inFlight;
    },
  };
  // An observer (onStart/onEnd, no wrapping) in the same slot, and one that throws in both hooks.
  const ends: Array<[string, number, string]> = [];
  let starts = 0;
  const observer: Interceptor = {
    name: 'test-observer',
    onStart() {
      starts++;
    },
    onEnd(ctx, end) {
      assert.ok(end.durationMs >= 0 && end.durationMs < 60_000, `durationMs ${end.durationMs}`);
      ends.push([ctx.method.name, end.code, end.message]);
    },
  };
  const broken: Interceptor = {
    name: 'broken-observer',
    onStart() {
      throw new Error('onStart bug');
    },
    onEnd() {
      throw new Error('onEnd bug');
    },
  };
  const tracer = (name: string): Interceptor => ({
    name,
    async intercept(ctx, next) {
      seen.push(`${name}:${authOf(ctx)?.kind ?? 'anonymous'}`);
      if (name === 'project' && ctx.metadata.get('x-boom').length > 0) throw new Error('project interceptor bug');
      await next(ctx);
    },
  });

  before(async () => {
    project = await makeProject({ apps: ['greeter'] });
    const config = await inProcessConfig(project, ['greeter'], {
      grpc: {
        server: { interceptors: [tracer('project')] },
        auth: { enabled: true, jwtSecretKey: 'pipeline-secret' },
        monitor: { enabled: false },
      },
    });
    running = await startServer(config, { interceptors: { metrics: [metricsInterceptor, observer, broken], logging: [tracer('outer')] } });
    const defs = await importFrom(project, 'generated/greeter.ts');
    client = new TestClient(defs.GreeterService as never, running.port);
  });
  after(async () => {
    client?.close();
    await project?.remove();
  });

  test('a call crosses the slots in order; auth refusals and project errors reach the metrics slot classified', async () => {
    assert.equal((await client.unary('sayHello', { name: 'a' })).message, 'hello a');
    assert.deepEqual(seen.splice(0), ['outer:anonymous', 'project:anonymous']);
    assert.deepEqual(metrics.splice(0), [['SayHello', 'OK']]);

    // Auth refuses a bad token: the metrics slot (outside auth) counts it; the project slot never runs.
    const { Metadata, credentials, makeGenericClientConstructor } = await import('@grpc/grpc-js');
    const defs = await importFrom(project, 'generated/greeter.ts');
    const Raw = makeGenericClientConstructor(defs.GreeterService as never, 'G');
    const raw = new Raw(`127.0.0.1:${running.port}`, credentials.createInsecure());
    const call = (md: Record<string, string>) =>
      new Promise<ServiceError>((resolve, reject) => {
        const m = new Metadata();
        for (const [k, v] of Object.entries(md)) m.set(k, v);
        (raw as unknown as Record<string, (...a: unknown[]) => void>).sayHello!({ name: 'x' }, m, (err: ServiceError | null) =>
          err ? resolve(err) : reject(new Error('succeeded')),
        );
      });
    const refused = await call({ authorization: 'Bearer not.a.jwt' });
    assert.equal(refused.code, status.UNAUTHENTICATED);
    assert.deepEqual(seen.splice(0), ['outer:anonymous']);
    assert.deepEqual(metrics.splice(0), [['SayHello', 'UNAUTHENTICATED']]);

    // A plain Error thrown by a project interceptor is mapped at the boundary: INTERNAL for the
    // client (no message leaked), and the metrics slot classifies it the same way.
    const boom = await call({ 'x-boom': '1' });
    assert.deepEqual([boom.code, boom.details], [status.INTERNAL, 'Internal server error']);
    assert.deepEqual(metrics.splice(0), [['SayHello', 'INTERNAL']]);
    const notFound = await callError(client.unary('fail', { kind: 'grpc' }));
    assert.equal(notFound.code, status.NOT_FOUND);
    assert.deepEqual(metrics.splice(0), [['Fail', 'NOT_FOUND']]);
    raw.close();

    // The observer saw the same four calls with the status each client got (the throwing
    // observer beside it changed nothing), one onStart per onEnd.
    assert.deepEqual(ends.splice(0), [
      ['SayHello', status.OK, ''],
      ['SayHello', status.UNAUTHENTICATED, refused.details],
      ['SayHello', status.INTERNAL, 'Internal server error'],
      ['Fail', status.NOT_FOUND, notFound.details],
    ]);
    assert.equal(starts, 4);
  });

  test('shutdown closes each interceptor once, after the calls have drained', async () => {
    // A call that holds until released: shutdown must wait for it before closing interceptors.
    const pending = client.unary('hold', { dir: project.root, key: 'k' });
    while (!existsSync(project.path('started-k'))) await sleep(10);
    const stopped = running.stop();
    await sleep(100);
    assert.equal(closed, 0, 'not closed while a call runs');
    await writeFile(project.path('release-k'), '');
    await pending;
    await stopped;
    assert.deepEqual([closed, inFlightAtClose], [1, 0]);
  });
});
