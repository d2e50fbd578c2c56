// 500 idle HTTP/2 connections held open against `cfg rungrpc` do not stop a normal call from
// being served, and the server still shuts down cleanly (exit 0) with them open.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import { frame, rawCall } from './support/raw-grpc.ts';
import { importFrom, makeProject, type CfgProcess, type Project } from './fixtures/project.ts';

let project: Project;
let proc: CfgProcess;
let port: number;
let hello: Uint8Array;

before(async () => {
  project = await makeProject({ apps: ['greeter'], config: { grpc: { server: { shutdownGraceMs: 2000 } }, logging: { logCalls: false } } });
  const mod = await importFrom(project, 'generated/greeter.ts');
  hello = (mod.HelloRequest as { encode(m: unknown): { finish(): Uint8Array } }).encode({ name: 'busy' }).finish();
  proc = project.spawn(['rungrpc']);
  port = await proc.port();
});
after(async () => {
  await proc?.stop();
  await project?.remove();
});

test('500 idle connections, then a normal call succeeds and SIGTERM still exits 0', async () => {
  const idle: http2.ClientHttp2Session[] = [];
  try {
    await Promise.all(
      Array.from(
        { length: 500 },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = http2.connect(`http://127.0.0.1:${port}`);
            s.on('error', () => {});
            idle.push(s);
            s.once('connect', () => resolve());
            s.once('error', reject);
          }),
      ),
    );
    assert.equal(idle.filter((s) => !s.destroyed).length, 500);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const reply = await rawCall(session, '/fixture.Greeter/SayHello', frame(hello));
    session.close();
    assert.equal(reply.status, '0');
    assert.ok(reply.body.length > 5);
    proc.kill('SIGTERM');
    const { code } = await proc.exited;
    assert.equal(code, 0);
  } finally {
    for (const s of idle) s.destroy();
  }
});
