// `cfg rungrpc --reload`: an edited service is served after a restart, a broken edit prints its
// error and waits for the next save, and a .proto edit regenerates the stubs first.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, makeProject, type CfgProcess, type Project } from './fixtures/project.ts';

let GreeterService: AnyDefinition;
let project: Project;
let proc: CfgProcess | undefined;

before(async () => {
  project = await makeProject({ apps: ['greeter'] });
  GreeterService = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
});
after(async () => {
  await proc?.stop();
  await project?.remove();
});

/** A port free right now, so every restart binds the same one (as a developer's fixed port does). */
function freePort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }),
  );
}

async function hello(port: number): Promise<string> {
  const c = new TestClient(GreeterService, port);
  try {
    return (await c.unary('sayHello', { name: 'rex' })).message as string;
  } finally {
    c.close();
  }
}

test('--reload restarts on an edit, survives a broken edit, and regenerates stubs for a .proto edit', async () => {
  const port = await freePort();
  proc = project.spawn(['rungrpc', '--reload', '--port', String(port)]);
  assert.equal(await proc.port(1), port);
  assert.equal(await hello(port), 'hello rex');

  const service = 'apps/greeter/grpc_services/greeter_service.ts';
  const original = await project.read(service);

  // 1. An edited service is picked up.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the service's source text, a template literal
  await project.write(service, original.replace('`hello ${request.name}`', '`howdy ${request.name}`'));
  assert.equal(await proc.port(2), port);
  assert.match(proc.stderr, /greeter_service\.ts changed: restarting/);
  assert.equal(await hello(port), 'howdy rex');

  // 2. A broken edit: the error is printed, the supervisor waits for the next save.
  await project.write(service, original.replace('async sayHello(', 'async sayHello(('));
  await proc.waitFor('stderr', /E_MODULE_IMPORT apps\/greeter\/grpc_services\/index\.ts grpcHandlers\(null\) failed: /);
  await proc.waitFor('stderr', /fix the error above and save; waiting for a change/);
  assert.equal(proc.running, true);

  // ...and the fix is served.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the service's source text, a template literal
  await project.write(service, original.replace('`hello ${request.name}`', '`hi again ${request.name}`'));
  assert.equal(await proc.port(3), port);
  assert.equal(await hello(port), 'hi again rex');

  // 3. A .proto edit regenerates the stubs before the restart.
  const proto = await project.read('proto/greeter.proto');
  await project.write('proto/greeter.proto', proto.replace('int32 pid = 2;', 'int32 pid = 2;\n  string mood = 3;'));
  await proc.waitFor('stderr', /regenerated stubs from 2 proto file\(s\)/);
  assert.equal(await proc.port(4), port);
  assert.match(await project.read('generated/greeter.ts'), /mood/);
  assert.equal(await hello(port), 'hi again rex');

  // 4. A .proto that does not compile leaves the running server alone.
  await project.write('proto/greeter.proto', proto.replace('message HelloReply {', 'message HelloReply {{'));
  await proc.waitFor('stderr', /stubs not regenerated: fix the \.proto and save/);
  assert.equal(await hello(port), 'hi again rex');

  proc.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 0, signal: null });
});
