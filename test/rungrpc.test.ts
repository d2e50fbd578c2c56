// `cfg rungrpc` end to end: serving discovered apps, the banner, proto auto-generation, a port
// in use, maxWorkers, and --processes serving one port from several processes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { discover } from '../src/discovery/discover.ts';
import type { ConcurrencyLimit } from '../src/interceptors/concurrency.ts';
import { concurrencyLimit } from '../src/interceptors/concurrency.ts';
import { configureLogging } from '../src/log/logger.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import { buildInterceptors } from '../src/server/start.ts';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type CfgProcess, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });

let defs: { GreeterService: AnyDefinition; FarewellService: AnyDefinition; PingService: AnyDefinition };
const projects: Project[] = [];
const procs: CfgProcess[] = [];
const cleanups: Array<() => void | Promise<void>> = [];

before(async () => {
  const p = await makeProject();
  projects.push(p);
  defs = { ...(await importFrom(p, 'generated/greeter.ts')), ...(await importFrom(p, 'generated/farewell.ts')) } as typeof defs;
});
after(async () => {
  for (const fn of cleanups) await fn();
  for (const proc of procs) await proc.stop();
  for (const p of projects) await p.remove();
});

async function project(options: Parameters<typeof makeProject>[0]): Promise<Project> {
  const p = await makeProject(options);
  projects.push(p);
  return p;
}

function spawnCfg(p: Project, args: string[]): CfgProcess {
  const proc = p.spawn(args);
  procs.push(proc);
  return proc;
}

function client(definition: AnyDefinition, port: number, options = {}): TestClient {
  const c = new TestClient(definition, port, options);
  cleanups.push(() => c.close());
  return c;
}

test('serves every discovered app, prints the banner, and stops on SIGTERM', async () => {
  const p = await project({
    apps: ['greeter', 'multi'],
    config: { grpc: { auth: { enabled: true, jwtSecretKey: 'fixture-secret-that-is-long-enough-for-hs256' }, server: { maxWorkers: 7 } } },
  });
  const proc = spawnCfg(p, ['rungrpc']);
  const port = await proc.port();

  assert.equal((await client(defs.GreeterService, port).unary('sayHello', { name: 'ivy' })).message, 'hello ivy');
  assert.deepEqual(await client(defs.PingService, port).unary('ping', {}), { from: 'multi' });

  const banner = proc.stdout;
  assert.match(banner, new RegExp(`listening on 127\\.0\\.0\\.1:${port} \\(pid ${proc.child.pid}\\)`));
  assert.match(banner, /reflection on {2}health on {2}auth JWT HS256, optional/);
  assert.match(banner, /maxWorkers 7/);
  for (const line of [
    'fixture.Greeter (Greeter)',
    'SayHello',
    'CountUp [serverStream]',
    'Sum [clientStream]',
    'Chat [bidi]',
    'fixture.Farewell (Farewell)',
    'SayGoodbye',
    'fixture.Ping (Ping)',
  ]) {
    assert.ok(banner.includes(line), `banner lists ${line}:\n${banner}`);
  }
  proc.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
});

test('the banner says when reflection, health and auth are off', async () => {
  const p = await project({ apps: ['multi'], config: { grpc: { server: { enableReflection: false, enableHealthCheck: false } } } });
  const proc = spawnCfg(p, ['rungrpc', '--host', '127.0.0.1', '--port', '0']);
  await proc.port();
  assert.match(proc.stdout, /reflection off {2}health off {2}auth off/);
  proc.kill('SIGTERM');
  assert.equal((await proc.exited).code, 0);
});

test('proto.autoGenerate: missing stubs are generated before serving', async () => {
  const p = await project({ apps: ['greeter'], stubs: false, config: { grpc: { proto: { autoGenerate: true } } } });
  const proc = spawnCfg(p, ['rungrpc']);
  const port = await proc.port();
  assert.ok(existsSync(p.path('generated/greeter.ts')));
  assert.match(proc.stderr, /generated stubs from 2 proto file\(s\)/);
  assert.equal((await client(defs.GreeterService, port).unary('sayHello', { name: 'gen' })).message, 'hello gen');
  proc.kill('SIGTERM');
  assert.equal((await proc.exited).code, 0);
});

describe('a port already in use', () => {
  let blocker: Server;
  let port: number;
  before(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  for (const processes of ['1', '2']) {
    test(`is one clear line and a non-zero exit (--processes ${processes})`, async () => {
      const p = await project({ apps: ['greeter'] });
      const result = await p.run(['rungrpc', '--port', String(port), '--processes', processes]);
      assert.equal(result.code, 1);
      const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, new RegExp(`^error E_PORT_IN_USE Port ${port} on 127\\.0\\.0\\.1 is already in use: `));
    });
  }
});

test('an address that cannot be bound: E_BIND, and the hint names where the host came from (--host, CFG_GRPC_HOST)', async () => {
  const p = await project({ apps: ['greeter'] });
  // 192.0.2.1 (TEST-NET-1) is no address of this machine.
  const flag = await p.run(['rungrpc', '--host', '192.0.2.1']);
  assert.equal(flag.code, 1);
  assert.match(
    flag.stderr,
    /^error E_BIND Cannot listen on 192\.0\.2\.1:0: .+\nhint {2}Check --host and grpc\.server\.port in cfg\.config\.ts\.\n$/,
  );
  const env = await p.run(['rungrpc', '--port', '0'], { CFG_GRPC_HOST: '192.0.2.1' });
  assert.equal(env.code, 1);
  assert.match(env.stderr, /^error E_BIND Cannot listen on 192\.0\.2\.1:0: .+\nhint {2}Check CFG_GRPC_HOST and --port\.\n$/);
});

test('--processes 2: one port served by two worker processes', async () => {
  const p = await project({ apps: ['greeter'] });
  const proc = spawnCfg(p, ['rungrpc', '--processes', '2']);
  const ready = await proc.waitFor('stdout', /2 processes serving \S+:(\d+) \(pids (\d+), (\d+)\)/);
  const port = Number(ready[1]);
  const workers = new Set([Number(ready[2]), Number(ready[3])]);
  assert.equal(workers.size, 2);
  assert.ok(!workers.has(proc.child.pid!), 'workers are not the primary');

  // Each client has its own connection; the primary hands connections to workers in turn.
  const pids = new Set<number>();
  for (let i = 0; i < 8 && pids.size < 2; i++) {
    const c = client(defs.GreeterService, port, { 'grpc.use_local_subchannel_pool': 1 });
    pids.add((await c.unary('sayHello', { name: String(i) })).pid as number);
  }
  assert.deepEqual([...pids].sort(), [...workers].sort());

  // With a worker per core, workers collect garbage on their own thread (src/runtime/worker-flags.ts).
  const singleThreadedGc = availableParallelism() <= 2;
  for (const pid of workers) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.equal(argv.includes('--single-threaded-gc'), singleThreadedGc, `worker ${pid}: ${argv.join(' ')}`);
  }

  proc.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
});

describe('maxWorkers', () => {
  let p: Project;
  before(async () => {
    p = await project({ apps: ['greeter'] });
  });

  /** Serves the greeter app through the chain rungrpc builds from the config, exposing its limiter. */
  async function serveWithChain(maxWorkers: number): Promise<{ port: number; limit: ConcurrencyLimit }> {
    const config = await inProcessConfig(p, ['greeter'], { grpc: { server: { maxWorkers } } });
    const chain = await buildInterceptors(config);
    const limit = chain.find((i) => i.name === 'concurrency') as ConcurrencyLimit;
    const server = new CfgServer(config, { interceptors: chain });
    for (const {
      registration: [Cls, add],
    } of (await discover(config)).services)
      add(new Cls(), server);
    const port = await server.listen('127.0.0.1', 0);
    cleanups.push(() => server.forceShutdown());
    return { port, limit };
  }

  const started = (key: string) => existsSync(p.path(`started-${key}`));
  async function until(what: string, cond: () => boolean): Promise<void> {
    for (let i = 0; i < 2000 && !cond(); i++) await sleep(5);
    assert.ok(cond(), `timed out waiting until ${what}`);
  }

  test('bounds the calls running at once: with all slots held, the next call waits for one', async () => {
    const { port, limit } = await serveWithChain(2);
    const c = client(defs.GreeterService, port);
    const calls = ['m1', 'm2', 'm3'].map((key) => c.unary('hold', { dir: p.root, key }));
    await until('2 calls run and 1 waits', () => limit.running === 2 && limit.waiting === 1);
    assert.equal(['m1', 'm2', 'm3'].filter(started).length, 2, 'only maxWorkers handlers entered');
    const waiting = ['m1', 'm2', 'm3'].find((k) => !started(k))!;
    const first = ['m1', 'm2', 'm3'].find(started)!;

    await writeFile(p.path(`release-${first}`), '');
    await until('the waiting call runs', () => started(waiting));
    assert.equal(limit.running, 2);
    assert.equal(limit.waiting, 0);
    for (const key of ['m1', 'm2', 'm3']) await writeFile(p.path(`release-${key}`), '');
    const replies = await Promise.all(calls);
    assert.deepEqual(
      replies.map((r) => r.message),
      ['released m1', 'released m2', 'released m3'],
    );
    await until('all slots are free', () => limit.running === 0);
  });

  test('streaming responses do not hold a slot', async () => {
    const { port, limit } = await serveWithChain(1);
    const c = client(defs.GreeterService, port);
    const held = c.unary('hold', { dir: p.root, key: 's1' });
    await until('the only slot is taken', () => limit.running === 1);
    assert.deepEqual(await c.serverStream('countUp', { n: 2 }), [{ value: 1 }, { value: 2 }]);
    await writeFile(p.path('release-s1'), '');
    assert.equal((await held).message, 'released s1');
  });

  test('a call that hands its wait to a queue of its own (releaseWorkerSlot) frees its slot for the calls behind it', async () => {
    const { port, limit } = await serveWithChain(1);
    const c = client(defs.GreeterService, port);
    const queued = c.unary('hold', { dir: p.root, key: 'queued-r1' });
    await until('the queued call is waiting', () => started('queued-r1'));
    assert.equal(limit.running, 0, 'its slot was given back');
    const held = c.unary('hold', { dir: p.root, key: 'r2' });
    await until('the next call runs meanwhile', () => started('r2'));
    assert.equal(limit.running, 1);
    for (const key of ['queued-r1', 'r2']) await writeFile(p.path(`release-${key}`), '');
    assert.deepEqual([(await queued).message, (await held).message], ['released queued-r1', 'released r2']);
    await until('all slots are free', () => limit.running === 0 && limit.waiting === 0);
  });

  test('past the queue, a call is refused with RESOURCE_EXHAUSTED', async () => {
    const config = await inProcessConfig(p, ['greeter']);
    const server = new CfgServer(config, { interceptors: [concurrencyLimit({ max: 1, queue: 0 })] });
    for (const {
      registration: [Cls, add],
    } of (await discover(config)).services)
      add(new Cls(), server);
    const port = await server.listen('127.0.0.1', 0);
    cleanups.push(() => server.forceShutdown());
    const c = client(defs.GreeterService, port);
    const held = c.unary('hold', { dir: p.root, key: 'q1' });
    await until('the slot is taken', () => started('q1'));
    const err = await callError(c.unary('sayHello', { name: 'late' }));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    assert.match(err.details, /Server busy: 1 calls running and 0 waiting/);
    await writeFile(p.path('release-q1'), '');
    await held;
  });
});
