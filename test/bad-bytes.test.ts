// Bad bytes over raw HTTP/2 (node:http2) to every RPC of a running `cfg rungrpc`: each malformed
// body gets a gRPC status with a safe message (no stack trace), the process stays up with no
// unhandled rejection, and a normal call right after succeeds.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import { badBodies, frame, rawCall } from './support/raw-grpc.ts';
import { importFrom, makeProject, type CfgProcess, type Project } from './fixtures/project.ts';

const MAX = 64 * 1024;
let project: Project;
let proc: CfgProcess;
let port: number;
let paths: string[];
let streamingIn: Set<string>;
let hello: Uint8Array;

before(async () => {
  project = await makeProject({ apps: ['greeter'], config: { grpc: { server: { maxReceiveMessageLength: MAX } }, logging: { logCalls: false } } });
  const mod = await importFrom(project, 'generated/greeter.ts');
  const defs = Object.values(mod.GreeterService as Record<string, { path: string; requestStream: boolean }>);
  paths = defs.map((m) => m.path);
  streamingIn = new Set(defs.filter((m) => m.requestStream).map((m) => m.path));
  hello = (mod.HelloRequest as { encode(m: unknown): { finish(): Uint8Array } }).encode({ name: 'hello' }).finish();
  proc = project.spawn(['rungrpc']);
  port = await proc.port();
});
after(async () => {
  await proc?.stop();
  await project?.remove();
});

const ALLOWED = new Set(['3', '8', '13', '12', '4', '1']); // INVALID_ARGUMENT, RESOURCE_EXHAUSTED, INTERNAL, UNIMPLEMENTED, DEADLINE, CANCELLED

test('every malformed body on every RPC gets a status, a safe message, and the server keeps serving', async () => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  let cases = 0;
  try {
    for (const path of paths) {
      if (path.endsWith('/Hold')) continue; // waits for the test by design
      for (const [name, body] of Object.entries(badBodies(hello, MAX))) {
        const reply = await rawCall(session.closed || session.destroyed ? http2.connect(`http://127.0.0.1:${port}`) : session, path, body, {}, 5000);
        cases++;
        assert.ok(reply.status !== undefined, `${path} / ${name}: no grpc-status`);
        // grpc-js drops an incomplete last frame of a request stream without delivering it, so a
        // streaming method may see only the complete messages before it and succeed.
        const incomplete = name === 'length prefix longer than the body' || name === 'a frame header cut short';
        const mayPass = incomplete && streamingIn.has(path);
        if (name === 'compressed flag without grpc-encoding') assert.equal(reply.status, '13', `${path} / ${name}: a protocol error (request-frames.test.ts)`);
        assert.ok(reply.status !== '0' || mayPass, `${path} / ${name}: accepted (status 0)`);
        if (reply.status !== '0') assert.ok(ALLOWED.has(reply.status), `${path} / ${name}: status ${reply.status} ${reply.message}`);
        assert.doesNotMatch(reply.message, /\n\s+at |\.ts:\d+/, `${path} / ${name}: stack trace sent to the client`);
      }
    }
  } finally {
    session.close();
  }
  assert.ok(cases >= 5 * 7);
  // A normal call right after, on a fresh connection.
  const fresh = http2.connect(`http://127.0.0.1:${port}`);
  const ok = await rawCall(fresh, '/fixture.Greeter/SayHello', frame(hello));
  fresh.close();
  assert.equal(ok.status, '0');
  assert.ok(ok.body.length > 5);
  assert.ok(proc.running, 'the server is still running');
  assert.doesNotMatch(proc.stderr, /unhandled|uncaught/i);
});

test('the crypto app: every malformed body on each of its RPCs gets a safe status, then it serves normally', async () => {
  const { startCrypto } = await import('./support/crypto-env.ts');
  const { CryptoServiceService, GetCoinRequest } = await import('../generated/crypto_service.ts');
  const app = await startCrypto('sqlite', { CFG_LOG_LEVEL: 'warn' });
  const session = http2.connect(`http://127.0.0.1:${app.port}`);
  let calls = 0;
  try {
    const valid = GetCoinRequest.encode({ symbol: 'BTC' }).finish();
    for (const def of Object.values(CryptoServiceService)) {
      for (const [name, body] of Object.entries(badBodies(valid, 4 * 1024 * 1024))) {
        const reply = await rawCall(session, def.path, body, {}, 5000);
        calls++;
        assert.ok(reply.status !== undefined, `${def.path} / ${name}: no grpc-status`);
        if (reply.status !== '0') assert.ok(ALLOWED.has(reply.status) || reply.status === '16' || reply.status === '9' || reply.status === '5', `${def.path} / ${name}: status ${reply.status} ${reply.message}`);
        assert.doesNotMatch(reply.message, /\n\s+at |\.ts:\d+/, `${def.path} / ${name}: stack trace sent`);
      }
    }
    assert.equal(calls, Object.keys(CryptoServiceService).length * 7);
    const ok = await rawCall(session, '/crypto.CryptoService/GetCoin', frame(GetCoinRequest.encode({ symbol: 'BTC' }).finish()));
    assert.equal(ok.status, '0');
    assert.equal(app.child.exitCode, null, 'the server is still running');
    assert.doesNotMatch(app.logs(), /unhandled|uncaught/i);
  } finally {
    session.close();
    await app.stop();
  }
});
