// The event channel's API on each backend, between two channels on one database (as two processes
// have: each its own connection and origin): typed topics, publish reaching the other channel and
// this one's own subscribers once, an event over NOTIFY's 8000-byte limit read back by key, events
// published in a transaction delivered at its commit and never on rollback, order kept.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveConfig } from '../src/config/resolve.ts';
import { closeDb, type Db } from '../src/db/client.ts';
import type { EventChannel } from '../src/events/channel.ts';
import { openEvents, publishFor } from '../src/events/open.ts';
import { defineTopic } from '../src/events/topic.ts';
import { withMigratedDb, type Provider } from './support/db.ts';
import { until } from './support/deployment.ts';

const note = defineTopic<{ n: number; text: string }>('test.note');

async function withChannels(
  provider: Provider,
  backend: 'postgresql' | 'sqlite' | 'redis',
  fn: (a: EventChannel, b: EventChannel, dbs: [Db, Db]) => Promise<void>,
): Promise<void> {
  await withMigratedDb(provider, async (db, database) => {
    const config = resolveConfig({ events: { backend, heartbeatMs: 50, maxStalenessMs: 200 } }, { root: process.cwd(), env: {} });
    const { createDb } = await import('../src/db/client.ts');
    const other = await createDb(database.target, { poolSize: 2 });
    const a = await openEvents(config, db);
    const b = await openEvents(config, other);
    try {
      assert.ok(await until(() => a.coherent() || (backend === 'redis' && a.state === 'up'), 10_000), `a is up (${a.state})`);
      assert.ok(await until(() => b.state === 'up', 10_000), `b is up (${b.state})`);
      await fn(a, b, [db, other]);
    } finally {
      await a.close();
      await b.close();
      await closeDb(other);
    }
  });
}

function collect(channel: EventChannel): Array<{ n: number; text: string }> {
  const got: Array<{ n: number; text: string }> = [];
  channel.on(note, (d) => got.push(d));
  return got;
}

const cases: Array<[Provider, 'postgresql' | 'sqlite' | 'redis']> = [
  ['postgresql', 'postgresql'],
  ['sqlite', 'sqlite'],
  ['postgresql', 'redis'],
];

for (const [provider, backend] of cases) {
  describe(`event channel: ${backend} (on ${provider})`, () => {
    test('publish reaches the other process once and this one at once; order kept; a large event is read back', async () => {
      await withChannels(provider, backend, async (a, b) => {
        const atA = collect(a);
        const atB = collect(b);
        const big = 'x'.repeat(20_000);
        await a.publish(note, { n: 1, text: 'small' });
        assert.deepEqual(
          atA.map((d) => d.n),
          [1],
          "this process's subscribers get it at once",
        );
        await a.publish(note, { n: 2, text: big });
        await a.publish(note, { n: 3, text: 'after the big one' });
        assert.ok(await until(() => atB.length >= 3, 10_000), `b got ${atB.length}`);
        await sleep(100);
        assert.deepEqual(
          atB.map((d) => d.n),
          [1, 2, 3],
          'in order, once each',
        );
        assert.equal(atB[1]!.text.length, 20_000, 'the large event whole');
        assert.deepEqual(
          atA.map((d) => d.n),
          [1, 2, 3],
          'a did not get its own back from the channel',
        );
      });
    });

    test('subscribe(): an async iterator of one topic, ended by its signal; counted while open', async () => {
      await withChannels(provider, backend, async (a, b) => {
        const stop = new AbortController();
        const seen: number[] = [];
        const it = b.subscribe(note, stop.signal);
        assert.equal(b.stats().subscribers, 1);
        const reading = (async () => {
          for await (const d of it) seen.push(d.n);
        })();
        for (let n = 1; n <= 5; n++) await a.publish(note, { n, text: '' });
        assert.ok(await until(() => seen.length === 5, 10_000));
        stop.abort();
        await reading;
        assert.equal(b.stats().subscribers, 0);
        assert.deepEqual(seen, [1, 2, 3, 4, 5]);
      });
    });

    if (backend !== 'redis') {
      test('publishIn: delivered to every process at the commit, never when the transaction rolls back', async () => {
        await withChannels(provider, backend, async (a, b, [db]) => {
          const atA = collect(a);
          const atB = collect(b);
          await db.$transaction(async (tx) => {
            await a.publishIn(tx, note, { n: 1, text: 'committed' });
            await sleep(150);
            assert.equal(atB.length, 0, 'not before the commit');
          });
          await db
            .$transaction(async (tx) => {
              await a.publishIn(tx, note, { n: 2, text: 'rolled back' });
              throw new Error('roll back');
            })
            .catch(() => {});
          await db.$transaction(async (tx) => a.publishIn(tx, note, { n: 3, text: 'x'.repeat(9000) }));
          assert.ok(await until(() => atB.length >= 2 && atA.length >= 2, 10_000), `b ${atB.length}, a ${atA.length}`);
          await sleep(150);
          assert.deepEqual(
            atB.map((d) => d.n),
            [1, 3],
          );
          assert.deepEqual(
            atA.map((d) => d.n),
            [1, 3],
            'the publishing process too, at the commit',
          );
        });
      });

      test('publishFor from code with no channel (a command) reaches the servers through the database', async () => {
        await withChannels(provider, backend, async (a, _b, dbs) => {
          const atA = collect(a);
          const { createDb } = await import('../src/db/client.ts');
          const { dbTarget } = await import('../src/db/client.ts');
          const outside = await createDb(dbTarget(dbs[0]), { poolSize: 1 });
          try {
            assert.equal(await publishFor(outside, note, { n: 7, text: 'from a command' }), true);
          } finally {
            await closeDb(outside);
          }
          assert.ok(await until(() => atA.length === 1, 10_000));
          assert.equal(atA[0]!.text, 'from a command');
        });
      });
    }

    test('coherent() only while heartbeats come back; stats and describe()', async () => {
      await withChannels(provider, backend, async (a) => {
        assert.equal(a.coherent(), backend !== 'redis', 'redis is not transactional: caches stay off');
        assert.equal(a.describe(), `${backend} up`);
        assert.ok(await until(() => a.stats().heartbeatAgeMs < 1000, 5_000), 'heartbeats come back');
        await a.close();
        assert.equal(a.coherent(), false);
        assert.equal(a.state, 'closed');
      });
    });
  });
}

test('a channel that never connects (Redis unreachable) turns down and says so, within 5 s; the server runs on', async () => {
  await withMigratedDb('sqlite', async (db) => {
    const config = resolveConfig({ events: { backend: 'redis', redisUrl: 'redis://127.0.0.1:1' } }, { root: process.cwd(), env: {} });
    const channel = await openEvents(config, db);
    const states: string[] = [];
    channel.onState((s) => states.push(`${s.state}: ${s.reason ?? ''}`));
    try {
      assert.equal(channel.state, 'connecting');
      assert.ok(await until(() => channel.state === 'down', 8_000), `down (${channel.state})`);
      assert.match(states[0] ?? '', /^down: not connected within 5000 ms \(check events\.backend and its address/);
      assert.equal(channel.coherent(), false);
    } finally {
      await channel.close();
    }
  });
});

test('defineTopic refuses a name that cannot travel', () => {
  assert.throws(() => defineTopic('has space'), /not a topic name/);
  assert.equal(defineTopic<number>('a.b-c_d').name, 'a.b-c_d');
});
