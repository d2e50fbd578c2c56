// The server monitor on SQLite and PostgreSQL: two server processes on one database each record
// themselves (id, host, pid, address, version, services) and beat; a graceful stop marks a row
// stopped; a killed server shows as down once 3 beats are missed, and not before.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDb, type Db } from '../src/db/client.ts';
import { listServers, MISSED_BEATS, type ServerInfo } from '../src/ops/queries.ts';
import { REPO } from './fixtures/project.ts';
import { PROVIDERS, withMigratedDb } from './support/db.ts';

const HEARTBEAT_MS = 500;

/** A server process on `url`; resolves once it serves, with its port and server id. */
async function serve(url: string): Promise<{ child: ChildProcess; port: number; serverId: string }> {
  const config = {
    grpc: {
      enabledApps: ['crypto'],
      server: { host: '127.0.0.1', port: 0, enableReflection: false },
      proto: { autoGenerate: false },
      monitor: { heartbeatMs: HEARTBEAT_MS },
    },
    logging: { logCalls: false, level: 'warn' },
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/ops/serve.ts'], {
    cwd: REPO,
    env: { ...process.env, DATABASE_URL: url, CFG_TEST_CONFIG: JSON.stringify(config), CFG_SECRET_KEY: 'x' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /serving (\d+) (\S+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]), serverId: m[2]! });
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}\n${err}`)));
  });
}

async function until(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

for (const provider of PROVIDERS) {
  describe(`server monitor on ${provider}`, () => {
    test('two servers on one database: both recorded and beating; stop -> stopped; kill -> down after 3 missed beats', async () => {
      await withMigratedDb(provider, async (_db, database) => {
        const children: ChildProcess[] = [];
        let db: Db | undefined;
        try {
          const a = await serve(database.url);
          children.push(a.child);
          const b = await serve(database.url);
          children.push(b.child);
          db = await createDb(database.target);
          const byId = async (at = Date.now()) =>
            new Map<string, ServerInfo>((await listServers(db!, new Date(at), HEARTBEAT_MS)).map((s) => [s.id, s]));
          await until(
            'both servers are recorded and serving',
            async () => [...(await byId()).values()].filter((s) => s.status === 'serving').length === 2,
          );
          const servers = await byId();
          for (const [s, child, port] of [
            [a, a.child, a.port],
            [b, b.child, b.port],
          ] as const) {
            const row = servers.get(s.serverId)!;
            assert.deepEqual(
              { host: row.host, pid: row.pid, address: row.address, version: row.version, services: row.services, status: row.status },
              {
                host: hostname(),
                pid: child.pid,
                address: `127.0.0.1:${port}`,
                version: '0.1.0',
                services: ['crypto.CryptoService', 'grpc.health.v1.Health'],
                status: 'serving',
              },
            );
          }
          // Both keep beating: after several intervals, neither is down.
          const first = servers.get(a.serverId)!.lastHeartbeat.getTime();
          await sleep(HEARTBEAT_MS * 5);
          const later = await byId();
          assert.ok(later.get(a.serverId)!.lastHeartbeat.getTime() > first, 'the heartbeat advances');
          assert.deepEqual([later.get(a.serverId)!.status, later.get(b.serverId)!.status], ['serving', 'serving']);

          // A graceful stop marks the row stopped at once.
          const exited = new Promise((r) => a.child.once('exit', r));
          a.child.kill('SIGTERM');
          assert.equal(await exited, 0);
          assert.equal((await byId()).get(a.serverId)!.status, 'stopped');

          // A killed server says nothing: it turns down once 3 beats are missed, and not before.
          const killedAt = Date.now();
          const killed = new Promise((r) => b.child.once('exit', r));
          b.child.kill('SIGKILL');
          await killed;
          let seenDownAt = 0;
          await until(
            'the killed server is down',
            async () => {
              const at = Date.now();
              const down = (await byId(at)).get(b.serverId)!.status === 'down';
              if (down) seenDownAt = at;
              return down;
            },
            30_000,
          );
          const lastBeat = (await byId()).get(b.serverId)!.lastHeartbeat.getTime();
          console.log(
            `${provider}: killed server down ${seenDownAt - killedAt} ms after SIGKILL, ${seenDownAt - lastBeat} ms after its last beat (${MISSED_BEATS} x ${HEARTBEAT_MS} ms allowed)`,
          );
          assert.ok(seenDownAt - lastBeat > MISSED_BEATS * HEARTBEAT_MS, `seen down ${seenDownAt - lastBeat} ms after its last beat`);
          // Not before: as of any moment up to 3 intervals after its last beat it is serving, just after that down.
          const statusAt = async (ms: number) =>
            (await listServers(db!, new Date(ms), HEARTBEAT_MS)).find((s) => s.id === b.serverId)!.status;
          assert.equal(await statusAt(lastBeat + MISSED_BEATS * HEARTBEAT_MS), 'serving', 'still serving 3 intervals after the last beat');
          assert.equal(await statusAt(lastBeat + MISSED_BEATS * HEARTBEAT_MS + 1), 'down');
          assert.equal((await byId()).get(a.serverId)!.status, 'stopped', 'a stopped server is not "down"');
        } finally {
          for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
          await db?.$disconnect();
        }
      });
    });
  });
}
