// The request log under a flood, on a real `cfg rungrpc` (SQLite): past grpc.requestLog.maxPending
// queued records, new ones are dropped; the drops are counted on /metrics
// (cfg_request_log_dropped_total{reason}) and reported in one warning per interval with the count,
// never one line per record; a graceful stop writes what was queued and says what was dropped.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { applyMigrations } from '../src/db/apply.ts';
import { ensureSqliteDir, parseDatabaseUrl } from '../src/db/url.ts';
import { TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, makeProject, REPO, type CfgProcess, type Project } from './fixtures/project.ts';

const BOUND = 10;
const CALLS = 300;
let project: Project | undefined;
let proc: CfgProcess | undefined;
after(async () => {
  await proc?.stop();
  await project?.remove();
});

/** A sample's value in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test(`a flood past maxPending (${BOUND}): drops counted on /metrics, one warning with the count, queued rows written on stop`, async () => {
  project = await makeProject({
    apps: ['greeter'],
    config: {
      // Nothing is written before the stop (flush once an hour, batches larger than the bound): the
      // first BOUND records wait in the queue, every later one is dropped, whatever the machine's speed.
      grpc: {
        requestLog: { enabled: true, maxPending: BOUND, flushIntervalMs: 3_600_000 },
        http: { enabled: true, port: 0, publicMetrics: true },
        monitor: { enabled: false },
      },
      logging: { logCalls: false },
    },
  });
  const target = parseDatabaseUrl('file:./var/cfg.sqlite3', project.root);
  if (target.provider === 'sqlite') ensureSqliteDir(target.file);
  await applyMigrations(REPO, target);
  proc = project.spawn(['rungrpc']);
  const port = await proc.port();
  const httpPort = Number((await proc.waitFor('stdout', /HTTP side port http:\/\/127\.0\.0\.1:(\d+)\//))[1]);

  const client = new TestClient((await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition, port);
  try {
    for (let sent = 0; sent < CALLS; sent += 50)
      await Promise.all(Array.from({ length: 50 }, (_, i) => client.unary('sayHello', { name: `n${sent + i}` })));
  } finally {
    client.close();
  }

  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  assert.equal(
    sample(metrics, 'cfg_request_log_dropped_total{reason="queue_full"}'),
    CALLS - BOUND,
    metrics
      .split('\n')
      .filter((l) => l.includes('request_log'))
      .join('\n'),
  );
  assert.equal(sample(metrics, 'cfg_request_log_dropped_total{reason="write_failed"}'), 0);
  assert.equal(sample(metrics, 'cfg_request_log_written_total'), 0);

  // One warning for the interval, with the count: not one per record.
  const line = await proc.waitFor(
    'stderr',
    /"msg":"request log: dropped (\d+) record\(s\) in the last 10 s: [^"]*queue was full[^"]*\(queue bound 10; (\d+) since start\)"/,
    1,
    40_000,
  );
  assert.deepEqual([Number(line[1]), Number(line[2])], [CALLS - BOUND, CALLS - BOUND]);
  assert.equal(proc.stderr.match(/request log: dropped/g)?.length, 1, proc.stderr);

  proc.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
  assert.match(
    proc.stderr,
    new RegExp(`request log closed: ${CALLS - BOUND} record\\(s\\) dropped since start \\(0 since the last report\\), ${BOUND} written`),
  );
  assert.equal(proc.stderr.match(/request log: dropped/g)?.length, 1, 'still one report');
  const db = new Database(target.provider === 'sqlite' ? target.file : '', { readonly: true });
  try {
    assert.equal(db.prepare('SELECT COUNT(*) FROM grpc_request_log').pluck().get(), BOUND);
  } finally {
    db.close();
  }
});
