// Logging of `cfg rungrpc`: named loggers with levels from cfg.config.ts, "grpc.discovery" at
// debug, one "grpc.calls" line per call, JSON lines for production and a readable terminal form.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, makeProject, type CfgProcess, type Project } from './fixtures/project.ts';
import { configureLogging, flushLogs, getLogger, logSettings } from '../src/log/logger.ts';

let GreeterService: AnyDefinition;
const projects: Project[] = [];
const procs: CfgProcess[] = [];

before(async () => {
  const p = await makeProject();
  projects.push(p);
  GreeterService = (await importFrom(p, 'generated/greeter.ts')).GreeterService as AnyDefinition;
});
after(async () => {
  for (const proc of procs) await proc.stop();
  for (const p of projects) await p.remove();
});

/** Serves greeter + multi with `logging`, runs `calls`, stops the server, returns its output. */
async function serveAndCall(logging: Record<string, unknown>, calls: (c: TestClient) => Promise<void>): Promise<CfgProcess> {
  const p = await makeProject({ apps: ['greeter', 'multi'], config: { logging } });
  projects.push(p);
  const proc = p.spawn(['rungrpc']);
  procs.push(proc);
  const c = new TestClient(GreeterService, await proc.port());
  try {
    await calls(c);
  } finally {
    c.close();
  }
  proc.kill('SIGTERM');
  assert.equal((await proc.exited).code, 0);
  return proc;
}

type Line = Record<string, unknown>;
const by = (lines: Line[], logger: string) => lines.filter((l) => l.logger === logger);

test('JSON lines: discovery at debug, one line per call, per-logger levels, the stack only in the log', async () => {
  const proc = await serveAndCall({ format: 'json', levels: { 'grpc.discovery': 'debug', 'apps.greeter': 'warn' } }, async (c) => {
    await c.unary('sayHello', { name: 'jo' });
    await c.serverStream('countUp', { n: 3 });
    const err = await callError(c.unary('fail', { kind: 'plain' }));
    assert.equal(err.details, 'Internal server error');
  });
  const lines = proc.jsonLogs(); // throws if any stderr line is not JSON
  for (const line of lines) {
    assert.equal(typeof line.time, 'string');
    assert.ok(['debug', 'info', 'warn', 'error'].includes(line.level as string));
  }

  // grpc.discovery tells every module it tried, per app, and what it found.
  const discovery = by(lines, 'grpc.discovery').map((l) => l.msg as string);
  for (const app of ['greeter', 'multi']) {
    assert.ok(
      discovery.includes(`${app}: tried apps/${app}/grpc_services: found apps/${app}/grpc_services/index.ts`),
      discovery.join('\n'),
    );
    for (const module of ['grpc_handlers', 'services/grpc', 'handlers/grpc', 'api/grpc']) {
      assert.ok(discovery.includes(`${app}: tried apps/${app}/${module}: not found`), `${app} ${module}`);
    }
  }
  assert.ok(
    discovery.includes('multi: 2 service(s) from apps/multi/grpc_services/index.ts: fixture.Farewell (Farewell), fixture.Ping (Ping)'),
  );

  // One line per call: the method, its status, duration and peer.
  const calls = by(lines, 'grpc.calls');
  assert.deepEqual(
    calls.map((l) => [l.msg, l.status, l.level]),
    [
      ['/fixture.Greeter/SayHello', 'OK', 'info'],
      ['/fixture.Greeter/CountUp', 'OK', 'info'],
      ['/fixture.Greeter/Fail', 'INTERNAL', 'warn'],
    ],
  );
  for (const call of calls) {
    assert.equal(typeof call.durationMs, 'number');
    assert.match(call.peer as string, /^ipv4:127\.0\.0\.1:\d+$/);
  }

  // The app's logger ("apps.greeter.grpc_services") is at warn: its info line is dropped.
  assert.deepEqual(by(lines, 'apps.greeter.grpc_services'), []);

  // The plain error's message and stack are logged, never sent (the client saw the generic message).
  const failure = by(lines, 'grpc.server').find((l) => l.msg === '/fixture.Greeter/Fail failed');
  assert.ok(failure, 'the failure is logged');
  assert.equal(failure.error, 'database password is hunter2');
  assert.match(failure.stack as string, /Error: database password is hunter2\n\s+at Greeter\.fail/);
});

test('levels apply per logger name: an app at debug, calls at warn', async () => {
  const proc = await serveAndCall({ format: 'json', levels: { 'apps.greeter': 'debug', 'grpc.calls': 'warn' } }, async (c) => {
    await c.unary('sayHello', { name: 'kim' });
    assert.equal((await callError(c.unary('fail', { kind: 'grpc' }))).code, status.NOT_FOUND);
  });
  const lines = proc.jsonLogs();
  assert.deepEqual(
    by(lines, 'apps.greeter.grpc_services').map((l) => [l.level, l.msg]),
    [
      ['info', 'said hello'],
      ['debug', 'hello details'],
    ],
  );
  assert.deepEqual(
    by(lines, 'grpc.calls').map((l) => [l.msg, l.status]),
    [['/fixture.Greeter/Fail', 'NOT_FOUND']],
  );
  assert.deepEqual(by(lines, 'grpc.discovery'), [], 'discovery stays at the default level, info');
});

test('pretty format: one readable line per entry, for a terminal', async () => {
  const proc = await serveAndCall({ format: 'pretty' }, async (c) => {
    await c.unary('sayHello', { name: 'lu' });
  });
  const lines = proc.stderr.split('\n').filter(Boolean);
  assert.ok(
    lines.some((l) => /^\d\d:\d\d:\d\d\.\d{3} INFO {2}apps\.greeter\.grpc_services said hello name=lu$/.test(l)),
    proc.stderr,
  );
  assert.ok(
    lines.some((l) =>
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}grpc\.calls \/fixture\.Greeter\/SayHello status=OK durationMs=[\d.]+ peer=ipv4:127\.0\.0\.1:\d+$/.test(
        l,
      ),
    ),
    proc.stderr,
  );
  assert.ok(
    lines.every((l) => !l.startsWith('{')),
    'no JSON',
  );
});

test('JSON lines stay one valid object with no repeated key, whatever the message and fields', () => {
  const written: string[] = [];
  const write = process.stderr.write;
  const before = logSettings();
  configureLogging({ format: 'json', level: 'info' });
  process.stderr.write = ((chunk: string) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  /** What callers outside TypeScript's types may pass (getLogger is public). */
  const odd = (value: unknown) => value as never;
  try {
    const log = getLogger('test.json "lines"');
    log.info('a "quoted"\nmessage', { amount: 12345678901234567890n, nested: { n: 1n }, skipped: undefined });
    log.warn('no fields');
    log.info('empty fields', {});
    log.error('overrides', { level: 'custom', msg: 'later' });
    log.info('null fields', odd(null));
    log.info('array fields', odd([1, 2]));
    log.info('a date as fields', odd(new Date(0)));
    log.info('toJSON', odd({ toJSON: () => undefined }));
    log.info(odd(undefined), { a: 1 });
    log.info(odd(5n));
    flushLogs();
  } finally {
    process.stderr.write = write;
    configureLogging(before);
  }
  const raw = written.join('').split('\n').filter(Boolean);
  assert.equal(raw.length, 10, raw.join('\n'));
  const lines = raw.map((l) => JSON.parse(l) as Line);
  raw.forEach((text, i) => {
    assert.match(lines[i]!.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(lines[i]!.logger, 'test.json "lines"');
    for (const key of ['"time":', '"level":', '"logger":']) assert.equal(text.split(key).length, 2, `${key} once in ${text}`);
  });
  assert.deepEqual(
    { ...lines[0], time: 0 },
    { time: 0, level: 'info', logger: 'test.json "lines"', msg: 'a "quoted"\nmessage', amount: '12345678901234567890', nested: { n: '1' } },
  );
  assert.deepEqual([lines[1]!.level, lines[1]!.msg, Object.keys(lines[1]!).length], ['warn', 'no fields', 4]);
  assert.deepEqual([lines[2]!.msg, Object.keys(lines[2]!).length], ['empty fields', 4]);
  // As with an object spread of the fields after the head: the field wins.
  assert.deepEqual([lines[3]!.level, lines[3]!.msg], ['custom', 'later']);
  assert.deepEqual(
    lines.slice(4).map((l) => [l.msg, l[0], l.a]),
    [
      ['null fields', undefined, undefined],
      ['array fields', 1, undefined],
      ['a date as fields', undefined, undefined],
      ['toJSON', undefined, undefined],
      [undefined, undefined, 1],
      ['5', undefined, undefined],
    ],
  );
});
