// grpc.http: defaults (off), an unknown key, environment overrides (bad values are in
// config.test.ts's tables); the side port is not served unless enabled; `cfg rungrpc` with CFG_HTTP=1 prints its
// address, serves it, and a SIGTERM closes it with the gRPC port.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { resolveConfig } from '../src/config/resolve.ts';
import { CfgError } from '../src/errors.ts';
import { configureLogging } from '../src/log/logger.ts';
import { startServer } from '../src/server/start.ts';
import { inProcessConfig, makeProject, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });
const resolve = (input: unknown, env: NodeJS.ProcessEnv = {}) => resolveConfig(input, { root: '/tmp/p', env });
function failure(input: unknown, env: NodeJS.ProcessEnv = {}): CfgError {
  try {
    resolve(input, env);
  } catch (err) {
    assert.ok(err instanceof CfgError);
    return err;
  }
  throw new Error('expected the config to be refused');
}

const LIMITS = { headersTimeoutMs: 10_000, idleTimeoutMs: 5000, maxConnections: 100 };

describe('grpc.http configuration', () => {
  test('off by default, on loopback port 8090, /metrics protected, connection limits', () => {
    assert.deepEqual({ ...resolve({}).grpc.http }, { enabled: false, host: '127.0.0.1', port: 8090, publicMetrics: false, ...LIMITS });
    const on = resolve({ grpc: { http: { enabled: true, port: 0, host: '::', publicMetrics: true, maxConnections: 7 } } }).grpc.http;
    assert.deepEqual({ ...on }, { enabled: true, host: '::', port: 0, publicMetrics: true, ...LIMITS, maxConnections: 7 });
  });

  test('an unknown key is refused with a suggestion', () => {
    const err = failure({ grpc: { http: { prot: 1 } } });
    assert.match(
      err.message,
      /^cfg\.config\.ts: grpc\.http\.prot is not a known setting \(set to 1\); grpc\.http accepts enabled, host, port, publicMetrics, headersTimeoutMs, idleTimeoutMs, maxConnections\.$/,
    );
    assert.match(err.hint ?? '', /Did you mean grpc\.http\.port\?/);
  });

  test('CFG_HTTP, CFG_HTTP_HOST and CFG_HTTP_PORT override the file; empty counts as unset', () => {
    const file = { grpc: { http: { enabled: false, port: 9000 } } };
    assert.deepEqual(
      { ...resolve(file, { CFG_HTTP: '1', CFG_HTTP_HOST: '0.0.0.0', CFG_HTTP_PORT: '0' }).grpc.http },
      { enabled: true, host: '0.0.0.0', port: 0, publicMetrics: false, ...LIMITS },
    );
    assert.equal(resolve(file, { CFG_HTTP: 'true' }).grpc.http.enabled, true);
    assert.equal(resolve({ grpc: { http: { enabled: true } } }, { CFG_HTTP: '0' }).grpc.http.enabled, false);
    assert.equal(resolve(file, { CFG_HTTP_PORT: '' }).grpc.http.port, 9000);
  });
});

/** A port free on 127.0.0.1 a moment ago. */
async function freePort(): Promise<number> {
  const probe = createTcpServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

/** Listens on `port` (then closes it again), trying until `ms` pass: 'bound', or the last error code. */
async function bindWithin(port: number, ms: number): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const server = createTcpServer();
    const result = await new Promise<string>((resolve) => {
      server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      server.listen(port, '127.0.0.1', () => resolve('bound'));
    });
    if (result === 'bound') await new Promise((r) => server.close(r));
    if (result === 'bound' || Date.now() > end) return result;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the side port with the server', () => {
  let project: Project;
  after(() => project?.remove());

  test('not served unless grpc.http.enabled', async () => {
    project = await makeProject({ apps: ['greeter'] });
    const running = await startServer(await inProcessConfig(project, ['greeter']));
    try {
      assert.equal(running.httpPort, undefined);
      assert.ok(!running.server.config.grpc.http.enabled);
    } finally {
      await running.stop();
    }
  });

  test('a port in use is refused by name, and the gRPC port is released', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const taken = (holder.address() as AddressInfo).port;
    // The gRPC port is a fixed one here (free a moment ago), so the test can bind it after the refusal.
    const grpcPort = await freePort();
    try {
      const config = await inProcessConfig(project, ['greeter'], {
        grpc: { server: { port: grpcPort }, http: { enabled: true, port: taken } },
      });
      await assert.rejects(startServer(config), (err: CfgError) => {
        assert.equal(err.code, 'E_PORT_IN_USE');
        assert.match(err.message, new RegExp(`^HTTP side port ${taken} on 127\\.0\\.0\\.1 is already in use.*CFG_HTTP_PORT`));
        return true;
      });
      // Released: this process can listen on it (the close may take a turn of the event loop; a port
      // left bound stays refused however long we wait, so a few seconds cannot hide it).
      const bound = await bindWithin(grpcPort, 5_000);
      assert.equal(bound, 'bound', `the gRPC port ${grpcPort} is still bound after the refused start: ${bound}`);
    } finally {
      holder.close();
    }
  });

  test('cfg rungrpc with CFG_HTTP=1: banner, served, closed on SIGTERM with the gRPC port', async () => {
    const proc = project.spawn(['rungrpc'], { CFG_HTTP: '1', CFG_HTTP_PORT: '0', CFG_SECRET_KEY: 'http-config-test' });
    try {
      const grpcPort = await proc.port();
      const httpPort = Number((await proc.waitFor('stdout', /HTTP side port http:\/\/127\.0\.0\.1:(\d+)\//))[1]);
      assert.ok(httpPort > 0 && httpPort !== grpcPort);
      const page = await fetch(`http://127.0.0.1:${httpPort}/`);
      assert.equal(page.status, 200);
      await page.text();
      const metrics = await fetch(`http://127.0.0.1:${httpPort}/metrics`); // keep-alive connection stays open
      assert.equal(metrics.status, 401);
      await metrics.text();
      proc.kill('SIGTERM');
      const { code } = await proc.exited;
      assert.equal(code, 0, proc.stderr);
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(httpPort, '127.0.0.1');
        socket.on('connect', () => resolve('connected'));
        socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
      assert.equal(refused, 'ECONNREFUSED');
    } finally {
      await proc.stop();
    }
  });
});
