// The metrics interceptor on a real in-process server: started/handled counters move per method and
// status code after real calls (OK, NOT_FOUND, INTERNAL, a refusal by an inner interceptor), the
// latency histogram counts each call, the in-flight gauge is up while a call runs and back to zero
// after, and every method's series exist (at zero) from start-up, bound once per method.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { callMetrics, LATENCY_BUCKETS, type CallMetrics } from '../src/interceptors/metrics.ts';
import type { Interceptor } from '../src/call/interceptor.ts';
import { configureLogging } from '../src/log/logger.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import { GrpcError, Status } from '../src/call/error.ts';
import type { ServiceImplementation } from '../src/services/types.ts';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });
let project: Project;
let server: CfgServer;
let client: TestClient;
let metrics: CallMetrics;
const holdDir = mkdtempSync(join(tmpdir(), 'cfg-metrics-hold-'));

before(async () => {
  project = await makeProject({ apps: ['greeter'] });
  const Greeter = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  const { Greeter: Impl } = (await importFrom(project, 'apps/greeter/grpc_services/greeter_service.ts')) as { Greeter: new () => object };
  metrics = callMetrics();
  // An inner interceptor that refuses one request, as auth does: the refusal is counted too.
  const refuse: Interceptor = {
    name: 'refuse',
    async intercept(ctx, next) {
      if (ctx.metadata.get('x-refuse').length) throw new GrpcError(Status.UNAUTHENTICATED, 'refused');
      return next(ctx);
    },
  };
  server = new CfgServer(await inProcessConfig(project, ['greeter']), { interceptors: [metrics, refuse] });
  server.addService(Greeter, new Impl() as ServiceImplementation<AnyDefinition>);
  client = new TestClient(Greeter, await server.listen('127.0.0.1', 0));
});
after(async () => {
  client?.close();
  server?.forceShutdown();
  await project?.remove();
});

async function values(name: string): Promise<MetricValue<string>[]> {
  const all = (await metrics.registry.getMetricsAsJSON()) as MetricObjectWithValues<MetricValue<string>>[];
  const metric = all.find((m) => m.name === name);
  assert.ok(metric, `metric ${name} exists`);
  return metric.values;
}

/** The value of the series of `name` matching `labels`; histogram parts are named by `part` ("_count", "_sum", "_bucket"). */
async function value(name: string, labels: Record<string, string>, part = ''): Promise<number | undefined> {
  const found = (await values(name)).find(
    (v) =>
      (v as { metricName?: string }).metricName === (part ? name + part : undefined) &&
      Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x),
  );
  return found?.value;
}

const hello = { grpc_service: 'fixture.Greeter', grpc_method: 'SayHello' };

test('every method and status code has a series at zero from start-up', async () => {
  const handled = await values('grpc_server_handled_total');
  const methods = new Set(handled.map((v) => v.labels.grpc_method));
  assert.deepEqual([...methods].sort(), ['Chat', 'CountUp', 'Fail', 'Hold', 'SayHello', 'Sum']);
  assert.equal(handled.length, 6 * 17, 'six methods x seventeen codes');
  assert.ok(handled.every((v) => v.value === 0));
  assert.equal(await value('grpc_server_handled_total', { ...hello, grpc_code: 'OK', grpc_type: 'unary' }), 0);
  assert.equal(await value('grpc_server_handled_total', { grpc_method: 'Chat', grpc_code: 'OK', grpc_type: 'bidi_stream' }), 0);
});

test('counters move by method and status code after real calls', async () => {
  for (let i = 0; i < 3; i++) await client.unary('sayHello', { name: `n${i}` });
  assert.equal((await callError(client.unary('fail', { kind: 'grpc' }))).code, status.NOT_FOUND);
  assert.equal((await callError(client.unary('fail', { kind: 'plain' }))).code, status.INTERNAL);
  await client.serverStream('countUp', { n: 3 });
  const { Metadata } = await import('@grpc/grpc-js');
  const md = new Metadata();
  md.set('x-refuse', '1');
  const refused = await new Promise<number>((resolve) =>
    (client.raw as unknown as Record<string, (...a: unknown[]) => void>).sayHello!({ name: 'x' }, md, (err: { code: number } | null) =>
      resolve(err?.code ?? 0),
    ),
  );
  assert.equal(refused, status.UNAUTHENTICATED);

  assert.equal(await value('grpc_server_started_total', hello), 4);
  assert.equal(await value('grpc_server_handled_total', { ...hello, grpc_code: 'OK' }), 3);
  assert.equal(await value('grpc_server_handled_total', { ...hello, grpc_code: 'UNAUTHENTICATED' }), 1);
  assert.equal(await value('grpc_server_handled_total', { grpc_method: 'Fail', grpc_code: 'NOT_FOUND' }), 1);
  assert.equal(await value('grpc_server_handled_total', { grpc_method: 'Fail', grpc_code: 'INTERNAL' }), 1);
  assert.equal(await value('grpc_server_handled_total', { grpc_method: 'CountUp', grpc_code: 'OK', grpc_type: 'server_stream' }), 1);
  assert.equal(await value('grpc_server_handling_seconds', hello, '_count'), 4);
  assert.equal(await value('grpc_server_handling_seconds', { ...hello, le: '+Inf' }, '_bucket'), 4);
  const sum = await value('grpc_server_handling_seconds', hello, '_sum');
  assert.ok(sum !== undefined && sum > 0, `latency sum ${sum} s`);
  const text = await metrics.registry.metrics();
  assert.match(
    text,
    /grpc_server_handled_total\{grpc_service="fixture.Greeter",grpc_method="SayHello",grpc_type="unary",protocol="grpc",grpc_code="OK"\} 3/,
  );
});

test('the in-flight gauge is up while a call runs and back to zero after it', async () => {
  const hold = { grpc_service: 'fixture.Greeter', grpc_method: 'Hold' };
  assert.equal(await value('grpc_server_in_flight', hold), 0);
  const call = client.unary('hold', { dir: holdDir, key: 'a' });
  for (let i = 0; i < 500 && !existsSync(join(holdDir, 'started-a')); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await value('grpc_server_in_flight', hold), 1);
  writeFileSync(join(holdDir, 'release-a'), '');
  await call;
  assert.equal(await value('grpc_server_in_flight', hold), 0);
  assert.equal(await value('grpc_server_handled_total', { ...hold, grpc_code: 'OK' }), 1);
});

test('a call is counted in the buckets of its duration: not below what it lasted, not above what the client waited', async () => {
  const hold = { grpc_service: 'fixture.Greeter', grpc_method: 'Hold' };
  const HELD_MS = 300; // over the 0.25 s bucket: the server's clock cannot see less than this
  const buckets = async () => {
    const out = new Map<string, number>();
    for (const le of [...LATENCY_BUCKETS.map(String), '+Inf'])
      out.set(le, (await value('grpc_server_handling_seconds', { ...hold, le }, '_bucket'))!);
    return out;
  };
  const before = await buckets();
  const sumBefore = (await value('grpc_server_handling_seconds', hold, '_sum'))!;
  const sent = performance.now();
  const call = client.unary('hold', { dir: holdDir, key: 'slow' });
  // The server's clock starts before the handler writes started-slow, and stops after it sees release-slow.
  for (let i = 0; i < 3000 && !existsSync(join(holdDir, 'started-slow')); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, HELD_MS));
  writeFileSync(join(holdDir, 'release-slow'), '');
  await call;
  const waited = (performance.now() - sent) / 1000;
  const after = await buckets();
  const added = [...after].map(([le, n]) => [le, n - before.get(le)!] as const);
  const sum = (await value('grpc_server_handling_seconds', hold, '_sum'))! - sumBefore;
  console.log(`held ${HELD_MS} ms; the client waited ${(waited * 1000).toFixed(0)} ms; the server measured ${(sum * 1000).toFixed(0)} ms`);
  assert.ok(sum >= HELD_MS / 1000 && sum <= waited, `the server measured ${sum} s: at least ${HELD_MS / 1000}, at most ${waited}`);
  for (const [le, n] of added) {
    const bound = le === '+Inf' ? Infinity : Number(le);
    // Cumulative buckets: 0 in every bucket below what it lasted, 1 in every bucket at or above what the client waited.
    if (bound < HELD_MS / 1000) assert.equal(n, 0, `bucket le=${le} counts a call that lasted at least ${HELD_MS} ms`);
    if (bound >= waited) assert.equal(n, 1, `bucket le=${le} misses a call the client saw end in ${waited} s`);
  }
});
