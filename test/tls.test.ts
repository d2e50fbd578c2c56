// Transport security from cfg.config.ts: TLS with a server certificate, and mutual TLS with a
// client CA. A plaintext client against TLS, and a client without a certificate against mTLS,
// are refused; good clients are served.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { configureLogging } from '../src/log/logger.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type Project } from './fixtures/project.ts';
import { makeCerts, type Certs } from './support/certs.ts';

configureLogging({ level: 'silent' });
let certs: Certs;
let project: Project;
let Greeter: AnyDefinition;
const servers: RunningServer[] = [];

before(async () => {
  certs = makeCerts();
  project = await makeProject({ apps: ['greeter'] });
  Greeter = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
});
after(async () => {
  for (const s of servers) s.server.forceShutdown();
  await project?.remove();
  rmSync(certs.dir, { recursive: true, force: true });
});

async function serve(tls: Record<string, string>): Promise<number> {
  const running = await startServer(await inProcessConfig(project, ['greeter'], { grpc: { server: { tls } } }));
  servers.push(running);
  return running.port;
}

const opts = { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' };

test('TLS: a client trusting the CA is served; a plaintext client is refused', async () => {
  const port = await serve({ cert: certs.serverCert, key: certs.serverKey });
  const secure = new TestClient(Greeter, port, opts, credentials.createSsl(certs.read(certs.caCert)));
  const plain = new TestClient(Greeter, port);
  try {
    assert.match(String((await secure.unary('sayHello', { name: 'tls' })).message), /tls/);
    const err = await callError(plain.unary('sayHello', { name: 'plain' }));
    assert.equal(err.code, status.UNAVAILABLE);
  } finally {
    secure.close();
    plain.close();
  }
});

test('mutual TLS: a client with a CA-signed certificate is served; one without a certificate is refused', async () => {
  const port = await serve({ cert: certs.serverCert, key: certs.serverKey, clientCa: certs.caCert });
  const withCert = new TestClient(
    Greeter,
    port,
    opts,
    credentials.createSsl(certs.read(certs.caCert), certs.read(certs.clientKey), certs.read(certs.clientCert)),
  );
  const noCert = new TestClient(Greeter, port, opts, credentials.createSsl(certs.read(certs.caCert)));
  try {
    assert.match(String((await withCert.unary('sayHello', { name: 'mtls' })).message), /mtls/);
    const err = await callError(noCert.unary('sayHello', { name: 'anon' }));
    assert.equal(err.code, status.UNAVAILABLE);
  } finally {
    withCert.close();
    noCert.close();
  }
});

test('a TLS file that cannot be read stops start-up with the field named', async () => {
  await assert.rejects(
    serve({ cert: '/nonexistent/cert.pem', key: certs.serverKey }),
    /grpc\.server\.tls\.cert: cannot read \/nonexistent\/cert\.pem/,
  );
});
