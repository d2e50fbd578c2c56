// The operations queries (src/ops/queries.ts) on SQLite and PostgreSQL, over rows written the way
// the request log and the server monitor write them: listServers computes "down" from the
// heartbeat, pruneServers deletes old rows of stopped or down servers only, recentCalls filters,
// orders and caps its limit, methodStats counts, error rates and percentiles, methodSeries calls per
// second and p99 per step of a window.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listServers, methodSeries, methodStats, pruneServers, recentCalls } from '../src/ops/queries.ts';
import { PROVIDERS, withMigratedDb } from './support/db.ts';

const now = new Date('2026-11-28T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
/** A grpc_server row as the monitor writes it, started an hour before `now`. */
const serverRow =
  (services: string) =>
  (id: string, lastHeartbeat: Date, status = 'serving') => ({
    id,
    host: 'h',
    pid: 1,
    address: '127.0.0.1:1',
    version: '0.1.0',
    services,
    startedAt: ago(3_600_000),
    lastHeartbeat,
    status,
  });

for (const provider of PROVIDERS) {
  describe(`operations queries on ${provider}`, () => {
    test('listServers: serving, stopped, and down after 3 missed beats', async () => {
      await withMigratedDb(provider, async (db) => {
        const row = serverRow('a.A,b.B');
        await db.serverInstance.createMany({
          data: [
            row('fresh', ago(1_000)),
            row('late-but-alive', ago(29_000)),
            row('gone', ago(31_000)),
            row('stopped', ago(600_000), 'stopped'),
          ],
        });
        const servers = await listServers(db, now, 10_000);
        assert.deepEqual(Object.fromEntries(servers.map((s) => [s.id, s.status])), {
          fresh: 'serving',
          'late-but-alive': 'serving',
          gone: 'down',
          stopped: 'stopped',
        });
        assert.deepEqual(servers[0]!.services, ['a.A', 'b.B']);
        // With a 1 s interval, 29 s without a beat is down too.
        assert.equal((await listServers(db, now, 1_000)).find((s) => s.id === 'late-but-alive')!.status, 'down');
      });
    });

    test("pruneServers: old rows of stopped or down servers go; a live server's row never does", async () => {
      await withMigratedDb(provider, async (db) => {
        const row = serverRow('a.A');
        await db.serverInstance.createMany({
          data: [
            row('fresh', ago(1_000)),
            row('late-but-alive', ago(29_000)),
            row('gone', ago(31_000)),
            row('stopped-long-ago', ago(600_000), 'stopped'),
            row('stopped-just-now', ago(5_000), 'stopped'),
          ],
        });
        const ids = async () => (await db.serverInstance.findMany({ select: { id: true }, orderBy: { id: 'asc' } })).map((r) => r.id);
        // Older than 1 min: only the stopped row qualifies ("gone" beat 31 s ago).
        assert.equal(await pruneServers(db, ago(60_000), now, 10_000), 1);
        assert.deepEqual(await ids(), ['fresh', 'gone', 'late-but-alive', 'stopped-just-now']);
        // A cutoff of now: every stopped or down row goes, live ones (beaten within 3 intervals) stay.
        assert.equal(await pruneServers(db, now, now, 10_000), 2);
        assert.deepEqual(await ids(), ['fresh', 'late-but-alive']);
      });
    });

    test('recentCalls and methodStats', async () => {
      await withMigratedDb(provider, async (db) => {
        const now = Date.now();
        const rows = [];
        // GetCoin: 100 calls, durations 1..100 ms, 10 of them NOT_FOUND; Watch: 3 old calls outside the window.
        for (let i = 1; i <= 100; i++) {
          rows.push({
            createdAt: new Date(now - 50_000 + i * 100),
            service: 'crypto.CryptoService',
            method: 'GetCoin',
            code: i % 10 === 0 ? 5 : 0,
            durationMs: i,
            error: i % 10 === 0 ? 'Coin X not found' : null,
            peer: 'ipv4:127.0.0.1:1',
            requestSize: 5,
            responseSize: i % 10 === 0 ? null : 60,
            serverId: 's1',
          });
        }
        for (let i = 0; i < 3; i++)
          rows.push({
            createdAt: new Date(now - 3_600_000),
            service: 'crypto.CryptoService',
            method: 'WatchPrices',
            code: 0,
            durationMs: 5000,
            serverId: 's1',
          });
        rows.push({
          createdAt: new Date(now - 1_000),
          service: 'other.Svc',
          method: 'Do',
          code: 16,
          durationMs: 0.5,
          error: 'Authentication required',
          serverId: 's2',
          apiKeyId: 7,
        });
        await db.requestLog.createMany({ data: rows });

        const latest = await recentCalls(db, { limit: 2 });
        assert.deepEqual(
          latest.map((c) => [c.method, c.status]),
          [
            ['Do', 'UNAUTHENTICATED'],
            ['GetCoin', 'NOT_FOUND'],
          ],
        );
        assert.equal(latest[0]!.apiKeyId, 7);
        assert.match(latest[0]!.id, /^[0-9a-f-]{36}$/, 'ids are made by the schema default (uuid v7)');
        const notFound = await recentCalls(db, { service: 'crypto.CryptoService', method: 'GetCoin', code: 5, limit: 100 });
        assert.equal(notFound.length, 10);
        assert.ok(notFound.every((c) => c.error === 'Coin X not found' && c.responseSize === null));
        assert.equal((await recentCalls(db, { method: 'WatchPrices' })).length, 3);
        assert.equal((await recentCalls(db, { limit: 1000 })).length, 104, 'every row, under the cap');

        const stats = await methodStats(db, { sinceMs: 60_000 });
        assert.deepEqual(stats, [
          { service: 'crypto.CryptoService', method: 'GetCoin', count: 100, errors: 10, errorRate: 0.1, p50Ms: 50, p99Ms: 99 },
          { service: 'other.Svc', method: 'Do', count: 1, errors: 1, errorRate: 1, p50Ms: 0.5, p99Ms: 0.5 },
        ]);
        const wide = await methodStats(db, { sinceMs: 2 * 3_600_000 });
        assert.deepEqual(
          wide.map((s) => [s.method, s.count]),
          [
            ['GetCoin', 100],
            ['WatchPrices', 3],
            ['Do', 1],
          ],
        );
      });
    });

    test('methodSeries: calls per second and p99 per step, every step of the window present', async () => {
      await withMigratedDb(provider, async (db) => {
        const end = new Date('2026-11-28T12:00:00Z');
        const rows = [];
        // 60 s window in 6 steps of 10 s: GetCoin 20 calls in the last step (1..20 ms), 5 in the first.
        for (let i = 1; i <= 20; i++)
          rows.push({
            createdAt: new Date(end.getTime() - 5_000),
            service: 'c.S',
            method: 'GetCoin',
            code: 0,
            durationMs: i,
            serverId: 's',
          });
        for (let i = 1; i <= 5; i++)
          rows.push({
            createdAt: new Date(end.getTime() - 55_000),
            service: 'c.S',
            method: 'GetCoin',
            code: 0,
            durationMs: 100,
            serverId: 's',
          });
        rows.push({ createdAt: new Date(end.getTime() - 120_000), service: 'c.S', method: 'Old', code: 0, durationMs: 1, serverId: 's' });
        await db.requestLog.createMany({ data: rows });
        const { bucketSeconds, methods } = await methodSeries(db, { sinceMs: 60_000, buckets: 6, now: end });
        assert.equal(bucketSeconds, 10);
        assert.deepEqual(
          methods.map((m) => m.method),
          ['GetCoin'],
          'calls outside the window are not counted',
        );
        const points = methods[0]!.points;
        assert.equal(points.length, 6);
        assert.deepEqual(
          points.map((p) => p.callsPerSecond),
          [0.5, 0, 0, 0, 0, 2],
        );
        assert.deepEqual(
          points.map((p) => p.p99Ms),
          [100, 0, 0, 0, 0, 20],
        );
        assert.equal(points[0]!.at.toISOString(), '2026-11-28T11:59:00.000Z');
      });
    });

    test('recentCalls: the limit defaults to 100 and is capped at 1000, not refused', async () => {
      await withMigratedDb(provider, async (db) => {
        const now = Date.now();
        // More rows than the cap, newest first by createdAt.
        const rows = Array.from({ length: 1005 }, (_, i) => ({
          createdAt: new Date(now - 100_000 + i),
          service: 's.S',
          method: `M${i}`,
          code: 0,
          durationMs: 1,
          serverId: 's1',
        }));
        await db.requestLog.createMany({ data: rows });
        const capped = await recentCalls(db, { limit: 100_000 });
        assert.equal(capped.length, 1000, 'a limit over the cap returns the cap');
        assert.equal(capped[0]!.method, 'M1004', 'the newest first');
        assert.equal(capped[999]!.method, 'M5', 'the oldest five are past the cap');
        assert.equal((await recentCalls(db, { limit: 1001 })).length, 1000);
        assert.equal((await recentCalls(db, {})).length, 100, 'the default');
        assert.equal((await recentCalls(db, { limit: 0 })).length, 1, 'at least one');
      });
    });
  });
}
