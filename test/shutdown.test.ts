// Graceful shutdown of `cfg rungrpc`: SIGTERM lets an in-flight call finish and exits 0, new
// calls are refused meanwhile, the grace period bounds the wait, and a second signal forces exit.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, makeProject, type CfgProcess, type Project } from './fixtures/project.ts';

let GreeterService: AnyDefinition;
const projects: Project[] = [];
const procs: CfgProcess[] = [];
const clients: TestClient[] = [];

before(async () => {
  const p = await makeProject();
  projects.push(p);
  GreeterService = (await importFrom(p, 'generated/greeter.ts')).GreeterService as AnyDefinition;
});
after(async () => {
  for (const c of clients) c.close();
  for (const proc of procs) await proc.stop();
  for (const p of projects) await p.remove();
});

async function serve(config: Record<string, unknown> = {}): Promise<{ project: Project; proc: CfgProcess; port: number }> {
  const project = await makeProject({ apps: ['greeter'], config });
  projects.push(project);
  const proc = project.spawn(['rungrpc']);
  procs.push(proc);
  return { project, proc, port: await proc.port() };
}

function client(port: number): TestClient {
  const c = new TestClient(GreeterService, port);
  clients.push(c);
  return c;
}

/** Starts a Hold call and waits until its handler runs. */
async function holdInFlight(project: Project, port: number, key: string): Promise<{ call: Promise<Record<string, unknown>> }> {
  const call = client(port).unary('hold', { dir: project.root, key });
  call.catch(() => {}); // observed by the test later
  for (let i = 0; i < 2000 && !existsSync(project.path(`started-${key}`)); i++) await sleep(10);
  assert.ok(existsSync(project.path(`started-${key}`)), 'the held call reached its handler');
  return { call }; // wrapped: an async function returning the promise itself would wait for it
}

test('SIGTERM: new calls are refused, the call in flight finishes, the process exits 0', async () => {
  const { project, proc, port } = await serve();
  const { call: held } = await holdInFlight(project, port, 'a');
  proc.kill('SIGTERM');
  await proc.waitFor('stderr', /SIGTERM: shutting down/);

  // The server no longer takes calls (a fresh connection is refused), while the held call runs on.
  let refused: number | undefined;
  for (let i = 0; i < 200 && refused === undefined; i++) {
    const fresh = new TestClient(GreeterService, port, { 'grpc.use_local_subchannel_pool': 1 });
    try {
      await fresh.unary('sayHello', { name: 'late' });
    } catch (err) {
      refused = (err as { code: number }).code;
    } finally {
      fresh.close();
    }
  }
  assert.equal(refused, status.UNAVAILABLE);
  assert.equal(proc.running, true, 'still draining the held call');

  await writeFile(project.path('release-a'), '');
  assert.equal((await held).message, 'released a');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
  assert.match(proc.stderr, /"msg":"stopped"/);
});

test('a second signal forces the exit while a call is still in flight', async () => {
  const { project, proc, port } = await serve();
  const { call: held } = await holdInFlight(project, port, 'b');
  proc.kill('SIGTERM');
  await proc.waitFor('stderr', /shutting down/);
  proc.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 1, signal: null });
  assert.match(proc.stderr, /SIGTERM again: exiting now/);
  await assert.rejects(held);
});

test('the grace period bounds the wait: calls still running are cancelled, then exit 0', async () => {
  const { project, proc, port } = await serve({ grpc: { server: { shutdownGraceMs: 200 } } });
  const { call: held } = await holdInFlight(project, port, 'c');
  proc.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
  assert.match(proc.stderr, /calls still running after 200 ms: cancelling them/);
  const err = await callError(held);
  assert.ok([status.CANCELLED, status.UNAVAILABLE].includes(err.code), `held call ended with ${err.code}`);
});

test('SIGINT stops an idle server with exit 0', async () => {
  const { proc } = await serve();
  proc.kill('SIGINT');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
  assert.match(proc.stderr, /SIGINT: shutting down/);
});
