// `cfg call` (the real `cfg`, spawned) on the greeter fixture, which has an RPC of each kind:
// client streams from stdin and from a file, bidi replies while stdin is still open, a server
// stream to its end; and, against servers started in this process, the fallback to the project's
// descriptor set when a server has no reflection, and TLS.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { inProcessConfig, makeProject, tempDir, type CfgProcess, type Project } from './fixtures/project.ts';
import { makeCerts, type Certs } from './support/certs.ts';
import { replies, runCfg, spawnCfg } from './support/cfg-call.ts';

let project: Project;
let server: CfgProcess;
let address: string;
let certs: Certs;
const inProcess: RunningServer[] = [];

before(async () => {
  project = await makeProject({ apps: ['greeter'] });
  server = project.spawn(['rungrpc']);
  address = `127.0.0.1:${await server.port()}`;
  certs = makeCerts();
});
after(async () => {
  for (const s of inProcess) s.server.forceShutdown();
  await server?.stop();
  await project?.remove();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

/** A greeter server in this process with these grpc.server settings (reflection off unless given). */
async function serve(settings: Record<string, unknown> = {}): Promise<string> {
  const running = await startServer(await inProcessConfig(project, ['greeter'], { grpc: { server: settings } }));
  inProcess.push(running);
  return `127.0.0.1:${running.port}`;
}

test('client stream: newline-delimited JSON from stdin, or pretty JSON objects from a file with -d @file', async () => {
  const file = project.path('counts.json');
  writeFileSync(file, '{\n  "value": 5\n}\n{"value": 6}');
  const [piped, fromFile, none] = await Promise.all([
    runCfg(['call', address, 'fixture.Greeter/Sum', '--compact'], { input: '{"value": 1}\n{"value": 2}\n{"value": 39}\n' }),
    runCfg(['call', address, 'fixture.Greeter/Sum', '-d', `@${file}`, '--compact']),
    runCfg(['call', address, 'fixture.Greeter/Sum', '--compact', '--emit-defaults'], { input: '' }),
  ]);
  assert.equal(piped.code, 0, piped.stderr);
  assert.deepEqual(replies(piped.stdout), [{ sum: 42, count: 3 }]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.deepEqual(replies(fromFile.stdout), [{ sum: 11, count: 2 }]);
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual(replies(none.stdout), [{ sum: 0, count: 0 }], 'no request at all, and --emit-defaults prints the zeros');
});

test('bidi: each reply printed while stdin is still open; the call ends when stdin does', async () => {
  const proc = spawnCfg(['call', address, 'fixture.Greeter/Chat', '--compact'], { cwd: project.root });
  try {
    proc.child.stdin!.write('{"name": "ann"}\n');
    await proc.waitFor('stdout', /"message":"ANN"/);
    assert.ok(proc.running, 'the first reply came before the input ended');
    proc.child.stdin!.write('{"name": "bo"}\n');
    await proc.waitFor('stdout', /"message":"BO"/);
    proc.child.stdin!.end();
    assert.equal((await proc.exited).code, 0, proc.stderr);
    assert.deepEqual(
      replies(proc.stdout).map((r) => r.message),
      ['ANN', 'BO'],
    );
  } finally {
    await proc.stop();
  }
});

test('server stream to its end; no request is {}; a bad request in a client stream (the call cancelled, exit 1)', async () => {
  const [count, empty, bad, twice] = await Promise.all([
    runCfg(['call', address, 'fixture.Greeter/CountUp', '{"n": 3}', '--compact']),
    runCfg(['call', address, 'fixture.Greeter/SayHello', '--compact']),
    runCfg(['call', address, 'fixture.Greeter/Sum'], { input: '{"value": 1}\n{"valu": 2}\n' }),
    runCfg(['call', address, 'fixture.Greeter/SayHello', '{"name": "a"} {"name": "b"}']),
  ]);
  assert.equal(empty.code, 0, empty.stderr);
  assert.equal(replies(empty.stdout)[0]!.message, 'hello ');
  assert.equal(count.code, 0, count.stderr);
  assert.deepEqual(replies(count.stdout), [{ value: 1 }, { value: 2 }, { value: 3 }]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error E_USAGE Request 2 is not a valid fixture\.Count: .*"valu" is unknown\n/);
  assert.equal(bad.stdout, '');
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /^error E_USAGE fixture\.Greeter\/SayHello takes one request; more than one was given\./);
});

test("a server without reflection: the project's descriptor set, --protoset elsewhere, a clear message otherwise", async () => {
  const bare = await serve();
  const outside = await tempDir('cfg-call-outside-');
  const [inProject, withProtoset, lost] = await Promise.all([
    runCfg(['call', bare, 'fixture.Greeter/SayHello', '{"name": "local"}', '--compact'], { cwd: project.root }),
    runCfg(
      [
        'call',
        bare,
        'fixture.Greeter/SayHello',
        '{"name": "set"}',
        '--compact',
        '--protoset',
        project.path('generated', 'descriptors.binpb'),
      ],
      { cwd: outside },
    ),
    runCfg(['call', bare, 'fixture.Greeter/SayHello', '{"name": "lost"}'], { cwd: outside }),
  ]);
  assert.equal(inProject.code, 0, inProject.stderr);
  assert.equal(replies(inProject.stdout)[0]!.message, 'hello local');
  assert.equal(withProtoset.code, 0, withProtoset.stderr);
  assert.equal(replies(withProtoset.stdout)[0]!.message, 'hello set');
  assert.equal(lost.code, 1);
  assert.match(
    lost.stderr,
    /^error E_NOT_FOUND 127\.0\.0\.1:\d+ has no reflection service, and no project is here to read its descriptors from\.\nhint {2}.*--protoset/,
  );
});

test('TLS: --cacert verifies the server; --insecure skips the check; plaintext and an unknown CA are refused', async () => {
  const secure = await serve({ tls: { cert: certs.serverCert, key: certs.serverKey } });
  const hello = (name: string, ...options: string[]) =>
    runCfg(['call', secure, 'fixture.Greeter/SayHello', `{"name": "${name}"}`, '--compact', ...options], { cwd: project.root });
  const [verified, insecure, plaintext, untrusted] = await Promise.all([
    hello('ca', '--cacert', certs.caCert),
    hello('any', '--tls', '--insecure'),
    hello('plain'),
    hello('system', '--tls'),
  ]);
  assert.equal(verified.code, 0, verified.stderr);
  assert.equal(verified.stderr, '', 'no warning either (Node warns about an IP address as TLS server name)');
  assert.equal(replies(verified.stdout)[0]!.message, 'hello ca');
  assert.equal(insecure.code, 0, insecure.stderr);
  assert.equal(replies(insecure.stdout)[0]!.message, 'hello any');
  for (const r of [plaintext, untrusted]) {
    assert.equal(r.code, 14, r.stderr);
    assert.match(r.stderr, /^error UNAVAILABLE \S[^\n]*\n$/);
  }
});
