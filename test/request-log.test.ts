// The request log: its settings and CFG_REQUEST_LOG, a writer whose database is down (records
// dropped and counted, nothing thrown), a server whose database is down (every call still
// answered), and the suite on SQLite (test/fixtures/ops/request-log-suite.ts).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { resolveConfig } from '../src/config/resolve.ts';
import { parseDatabaseUrl } from '../src/db/url.ts';
import { buildInterceptors } from '../src/interceptors/pipeline.ts';
import { openLogSink, type LogSink } from '../src/ops/log-sink.ts';
import type { RequestLogWriter } from '../src/ops/request-log.ts';
import { RequestLogWriter as Writer, uuid7 } from '../src/ops/request-log.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import { discover } from '../src/discovery/discover.ts';
import { TestClient } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject } from './fixtures/project.ts';
import { requestLogSuite } from './fixtures/ops/request-log-suite.ts';
import { closedPort } from './support/db.ts';

describe('settings (request log, monitor, API keys)', () => {
  const resolve = (grpc: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => resolveConfig({ grpc }, { root: '/tmp', env });
  test('defaults: off, every call, batches of 500, flushed each second', () => {
    assert.deepEqual(
      { ...resolve({}).grpc.requestLog },
      { enabled: false, sampleRate: 1, batchSize: 500, flushIntervalMs: 1000, maxPending: 50_000 },
    );
  });
  test('CFG_REQUEST_LOG=1|0 overrides the file', () => {
    assert.equal(resolve({}, { CFG_REQUEST_LOG: '1' }).grpc.requestLog.enabled, true);
    assert.equal(resolve({ requestLog: { enabled: true } }, { CFG_REQUEST_LOG: '0' }).grpc.requestLog.enabled, false);
    assert.throws(
      () => resolve({}, { CFG_REQUEST_LOG: 'yes' }),
      /environment CFG_REQUEST_LOG="yes" \(for grpc\.requestLog\.enabled\) must be 1 or 0/,
    );
  });
  test('bad values name the field', () => {
    assert.throws(
      () => resolve({ requestLog: { sampleRate: 1.5 } }),
      /grpc\.requestLog\.sampleRate is 1\.5; it must be a number from 0 to 1/,
    );
    assert.throws(
      () => resolve({ requestLog: { batchSize: 0 } }),
      /grpc\.requestLog\.batchSize is 0; it must be an integer from 1 to 5000/,
    );
    assert.throws(
      () => resolve({ requestLog: { flushMs: 5 } }),
      /grpc\.requestLog\.flushMs is not a known setting \(set to 5\); grpc\.requestLog accepts enabled, sampleRate, batchSize, flushIntervalMs, maxPending/,
    );
    assert.throws(() => resolve({ monitor: { heartbeatMs: 5 } }), /grpc\.monitor\.heartbeatMs is 5; it must be an integer from 100/);
    assert.throws(
      () => resolve({ auth: { apiKeyHeader: 'X-Api-Key' } }),
      /grpc\.auth\.apiKeyHeader is "X-Api-Key"; it must be a lower-case metadata key/,
    );
    assert.equal(resolve({ auth: { apiKeyHeader: '' } }).grpc.auth.apiKeyHeader, '', '"" turns API keys off');
  });
});

test('uuid7: time first, version 7, RFC variant; strictly increasing within a millisecond', () => {
  const ms = Date.now() + 3_600_000; // ahead of every id this process has made
  const a = uuid7(ms);
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(a.slice(0, 13).replace('-', ''), ms.toString(16).padStart(12, '0'));
  const later = uuid7(ms + 1000);
  assert.ok(a < later);
  const sameMs = Array.from({ length: 50 }, () => uuid7(ms + 1000));
  assert.deepEqual([...sameMs].sort(), sameMs, 'ids of one millisecond sort in the order they were made');
  assert.ok(later < sameMs[0]!);
  assert.ok(uuid7(ms) > sameMs.at(-1)!, 'a clock that steps back never makes a smaller id');
});

describe('the database is down', () => {
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers) await close();
  });

  test('the writer drops and counts the records; it never throws', async () => {
    const target = parseDatabaseUrl(`postgresql://postgres@127.0.0.1:${await closedPort()}/test`, '/tmp');
    const writer = new Writer(() => openLogSink(target), { serverId: 's', batchSize: 10, flushIntervalMs: 60_000, maxPending: 100 });
    const record = {
      createdAt: Date.now(),
      service: 's',
      method: 'm',
      code: 0,
      durationMs: 1,
      peer: null,
      userId: null,
      apiKeyId: null,
      error: null,
      requestSize: null,
      responseSize: null,
    };
    for (let i = 0; i < 25; i++) writer.record({ ...record });
    await writer.close();
    assert.deepEqual([writer.written, writer.dropped], [0, 25]);
    writer.record({ ...record });
    assert.equal(writer.dropped, 26, 'a record after close is dropped, not kept');
  });

  test('a slow database holds at most maxPending records, then drops new ones', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inserted: number[] = [];
    // A sink that holds its first write until released: a database that is slow.
    const slow: LogSink = {
      insert: async (rows) => {
        await gate;
        inserted.push(rows.length);
      },
      close: async () => {},
    };
    const writer = new Writer(async () => slow, { serverId: null, batchSize: 5, flushIntervalMs: 60_000, maxPending: 12 });
    const record = {
      createdAt: Date.now(),
      service: 's',
      method: 'm',
      code: 0,
      durationMs: 1,
      peer: null,
      userId: null,
      apiKeyId: null,
      error: null,
      requestSize: null,
      responseSize: null,
    };
    for (let i = 0; i < 5; i++) writer.record({ ...record });
    await new Promise((r) => setImmediate(r)); // the full batch starts writing and waits on the gate
    for (let i = 0; i < 20; i++) writer.record({ ...record });
    assert.equal(writer.dropped, 8, '12 wait, 8 dropped');
    release();
    await writer.close();
    assert.deepEqual(inserted, [5, 5, 5, 2]);
    assert.equal(writer.written, 17);
  });

  test('every call is still answered when the request log cannot write', async () => {
    const project = await makeProject({ apps: ['greeter'] });
    closers.push(() => project.remove());
    const config = await inProcessConfig(project, ['greeter'], {
      grpc: { requestLog: { enabled: true, batchSize: 5, flushIntervalMs: 20 } },
      database: { url: `postgresql://postgres@127.0.0.1:${await closedPort()}/test` },
    });
    const chain = await buildInterceptors(config, { serverId: 'x' });
    const writer = (chain.find((i) => i.name === 'request-log') as unknown as { writer: RequestLogWriter }).writer;
    const server = new CfgServer(config, { interceptors: chain, measureSizes: true });
    for (const {
      registration: [Cls, add],
    } of (await discover(config)).services)
      add(new Cls(), server);
    const port = await server.listen('127.0.0.1', 0);
    const defs = await importFrom(project, 'generated/greeter.ts');
    const client = new TestClient(defs.GreeterService as never, port);
    try {
      for (let i = 0; i < 30; i++) assert.equal((await client.unary('sayHello', { name: `n${i}` })).message, `hello n${i}`);
    } finally {
      client.close();
      await server.shutdown(2000);
    }
    assert.deepEqual([writer.written, writer.dropped], [0, 30]);
  });
});

requestLogSuite('sqlite');
