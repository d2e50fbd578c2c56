// OpenTelemetry tracing (grpc.server.tracing): a SERVER span per call with the rpc.* attributes
// and status code, continuing the trace context sent in the request metadata.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Metadata, credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { configureLogging } from '../src/log/logger.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });
const exporter = new InMemorySpanExporter();
let project: Project;
let running: RunningServer;
let client: TestClient;
let Greeter: AnyDefinition;

before(async () => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  project = await makeProject({ apps: ['greeter'] });
  Greeter = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  running = await startServer(await inProcessConfig(project, ['greeter'], { grpc: { server: { tracing: true } } }));
  client = new TestClient(Greeter, running.port);
});
after(async () => {
  client?.close();
  running?.server.forceShutdown();
  await project?.remove();
  trace.disable();
  propagation.disable();
});

test('a successful call is one SERVER span with the rpc attributes and status 0', async () => {
  exporter.reset();
  await client.unary('sayHello', { name: 'otel' });
  const spans = exporter.getFinishedSpans();
  assert.equal(spans.length, 1);
  const span = spans[0]!;
  assert.equal(span.name, 'fixture.Greeter/SayHello');
  assert.equal(span.kind, 1 /* SERVER */);
  assert.deepEqual(
    {
      system: span.attributes['rpc.system'],
      service: span.attributes['rpc.service'],
      method: span.attributes['rpc.method'],
      code: span.attributes['rpc.grpc.status_code'],
    },
    { system: 'grpc', service: 'fixture.Greeter', method: 'SayHello', code: 0 },
  );
  assert.equal(span.status.code, 0 /* UNSET */);
});

test('a failing call records its gRPC status code and an error status', async () => {
  exporter.reset();
  const err = await callError(client.unary('fail', { kind: 'grpc' }));
  const span = exporter.getFinishedSpans()[0]!;
  assert.equal(span.attributes['rpc.grpc.status_code'], err.code);
  assert.notEqual(err.code, 0);
  assert.equal(span.status.code, 2 /* ERROR */);
});

test('the span continues the trace context sent in the traceparent metadata', async () => {
  exporter.reset();
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parentSpanId = '00f067aa0ba902b7';
  const md = new Metadata();
  md.set('traceparent', `00-${traceId}-${parentSpanId}-01`);
  const Ctor = makeGenericClientConstructor(Greeter, 'G');
  const raw = new Ctor(`127.0.0.1:${running.port}`, credentials.createInsecure()) as unknown as Record<
    string,
    (...a: unknown[]) => unknown
  > & { close(): void };
  await new Promise<void>((resolve, reject) => raw.sayHello!({ name: 'p' }, md, (e: Error | null) => (e ? reject(e) : resolve())));
  raw.close();
  const span = exporter.getFinishedSpans()[0]!;
  assert.equal(span.spanContext().traceId, traceId);
  assert.equal(span.parentSpanContext?.spanId ?? (span as unknown as { parentSpanId?: string }).parentSpanId, parentSpanId);
});
