// `cfg check` compiles the protos and type-checks the apps' services: a .proto that does not
// compile and a service method that does not match its RPC are reported before rungrpc is run,
// with the message rungrpc gives (E_PROTO_COMPILE) or TypeScript's reason (E_TYPECHECK).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { projectsOfThisFile } from './fixtures/project.ts';

const project = projectsOfThisFile();

describe('cfg check compiles and type-checks', { concurrency: true }, () => {
  test('a .proto with a syntax error: E_PROTO_COMPILE at its line, the message rungrpc refuses to start with', async () => {
    const p = await project({ apps: ['greeter'], config: { grpc: { proto: { autoGenerate: true } } } });
    await p.write(
      'proto/greeter.proto',
      (await p.read('proto/greeter.proto')).replace(/(rpc SayHello\(HelloRequest\) returns \(HelloReply\));/, '$1'),
    );
    const checked = await p.run(['check'], {}, 100_000); // type-checking takes a minute on a loaded 2-core machine
    assert.equal(checked.code, 1, checked.stdout);
    const served = await p.run(['rungrpc']);
    assert.equal(served.code, 1);
    const message = /^error E_PROTO_COMPILE (buf could not compile proto\/:\nproto\/greeter\.proto:\d+:\d+:.+)\nhint/m.exec(
      served.stderr,
    )?.[1];
    assert.ok(message, served.stderr);
    assert.ok(
      checked.stdout.includes(`✗ protos: E_PROTO_COMPILE ${message.replace(/\n/g, '\n    ')}\n`),
      `check says what rungrpc says:\n${checked.stdout}\n${served.stderr}`,
    );
  });

  test("a service method that does not match its RPC: E_TYPECHECK with the file, line and TypeScript's reason", async () => {
    const p = await project({ apps: ['greeter'] });
    const file = 'apps/greeter/grpc_services/greeter_service.ts';
    const source = await p.read(file);
    const classLine = source.split('\n').findIndex((l) => /^export class Greeter\b/.test(l)) + 1; // where TypeScript reports it
    assert.ok(classLine > 0, 'the fixture declares class Greeter');
    await p.write(file, source.replace('async sayHello(', 'async sayHelo('));
    const { code, stdout } = await p.run(['check'], {}, 100_000); // type-checking takes a minute on a loaded 2-core machine
    assert.equal(code, 1, stdout);
    assert.match(
      stdout,
      new RegExp(
        String.raw`^✗ types: E_TYPECHECK 2 type error\(s\) in the services:\n {4}apps\/greeter\/grpc_services\/greeter_service\.ts:${classLine}:14 TS2420: Property 'sayHello' is missing in type 'Greeter' but required in type 'ServiceImplementation<\.\.\.>'\.$`,
        'm',
      ),
    );
    // and where the class is registered
    assert.match(stdout, /^ {4}apps\/greeter\/grpc_services\/index\.ts:\d+:\d+ TS2345: Property 'sayHello' is missing in type 'Greeter'/m);
    assert.match(
      stdout,
      /^! fixture\.Greeter: Greeter has no method sayHello\(\): calls to \/fixture\.Greeter\/SayHello answer UNIMPLEMENTED$/m,
    );
  });
});
