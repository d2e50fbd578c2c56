// grpc.server.maxConnections under node:cluster (issue 21 item 4): each worker holds at most
// maxConnections; a connection past it is closed at once by the worker that got it. (node's own
// server.maxConnections would hand it back to the primary, which hands it to a worker again,
// endlessly when every worker is full: such connections were neither served nor closed.)
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, describe, test } from 'node:test';
import { makeProject, type CfgProcess, type Project } from './fixtures/project.ts';

/** Far past the time a refused connection takes to close. */
const WITHIN_MS = 15_000;

describe('cfg rungrpc with 2 processes (node:cluster)', () => {
  let proc: CfgProcess;
  let spawned: Project;
  after(async () => {
    await proc?.stop();
    await spawned?.remove();
  });

  test('maxConnections holds per worker: past it connections are closed at once, not handed from worker to worker', async () => {
    spawned = await makeProject({
      apps: ['greeter'],
      config: { grpc: { server: { processes: 2, maxConnections: 3 } }, logging: { logCalls: false } },
    });
    proc = spawned.spawn(['rungrpc']);
    const port = Number((await proc.waitFor('stdout', /2 processes serving \S+:(\d+)/))[1]);
    const sessions: http2.ClientHttp2Session[] = [];
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const s = http2.connect(`http://127.0.0.1:${port}`);
        s.on('error', () => {});
        sessions.push(s);
        outcomes.push(
          await new Promise<string>((resolve) => {
            const timer = setTimeout(() => resolve('neither served nor closed'), WITHIN_MS);
            const done = (outcome: string) => {
              clearTimeout(timer);
              resolve(outcome);
            };
            s.once('remoteSettings', () => done('served'));
            s.once('close', () => done('closed'));
          }),
        );
      }
      const served = outcomes.filter((o) => o === 'served').length;
      assert.equal(served + outcomes.filter((o) => o === 'closed').length, 10, `every connection served or closed: ${outcomes.join(', ')}`);
      // Round-robin gives each worker every other connection: 3 each; never more than 3 per worker.
      assert.ok(served >= 3 && served <= 6, `served ${served}: ${outcomes.join(', ')}`);
    } finally {
      for (const s of sessions) s.destroy();
    }
  });
});
