// `cfg startapp NAME` in a fresh project, one app per RPC kind and one with all four: the files
// are written, the stubs generated and each app enabled; the protos are clean under the lint
// rules and buf format; `cfg check` finds every service; each app's own test starts the server
// with it and passes. (Compiling: startapp-compile.test.ts; refusals: startapp-refusals.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { formatProto } from '../src/proto/format.ts';
import { lintProto } from '../src/proto/lint.ts';
import type { Project, RunResult } from './fixtures/project.ts';
import { freshProject, runProgram, SINGLE_KIND_APPS, startSingleKindApps } from './support/startapp-project.ts';

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

describe('cfg startapp: one app per RPC kind, and notes with all four', () => {
  let p: Project;
  let r: RunResult;
  before(async () => {
    p = await freshProject(projects);
    await startSingleKindApps(p);
    r = await p.run(['startapp', 'notes', '--rpc', 'unary', 'server-stream', 'client-stream', 'bidi']);
  });

  test('the command: the files it wrote, the stubs, the app enabled, what to do next', async () => {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 5), [
      'created app notes: service notes.v1.NotesService (Get, Watch, Upload, Chat)',
      '  proto/notes.proto',
      '  apps/notes/grpc_services/index.ts',
      '  apps/notes/grpc_services/notes_service.ts',
      '  test/notes.test.ts',
    ]);
    assert.match(lines[5]!, /^generated 5 proto file\(s\) -> generated\/ in \d+ ms$/);
    assert.equal(lines[6], "enabled added 'notes' to grpc.enabledApps in cfg.config.ts");
    assert.match(r.stdout, /^next:\n {2}1\. write the methods in apps\/notes\/grpc_services\/notes_service\.ts: /m);
    assert.match(r.stdout, /grpcurl -plaintext -d '\{"text": "hi"\}' localhost:PORT notes\.v1\.NotesService\/Get$/m);

    // Every app enabled, in the order they were made.
    assert.match(await p.read('cfg.config.ts'), /^ {4}enabledApps: \['unary_app', 'feed', 'uploads', 'chat2', 'notes'\],$/m);
    const stub = await p.read('generated/notes.ts');
    assert.match(stub, /export const NotesServiceService = \{/);
    assert.match(
      stub,
      /path: "\/notes\.v1\.NotesService\/Chat" as const,\s+requestStream: true as const,\s+responseStream: true as const,/,
    );
    assert.match(
      await p.read('generated/feed.ts'),
      /path: "\/feed\.v1\.FeedService\/Watch" as const,\s+requestStream: false as const,\s+responseStream: true as const,/,
    );
  });

  test("the protos are clean under cfg's lint rules and formatted as buf format writes them", async () => {
    const lint = await lintProto({ root: p.root, protoDir: 'proto', shownFrom: p.root });
    assert.deepEqual(lint.findings, []);
    assert.equal(lint.files, 5);
    const format = await formatProto({ root: p.root, protoDir: 'proto', shownFrom: p.root }, { check: true });
    assert.deepEqual(format.findings, []);
  });

  test("cfg check finds each app's service; lint clean; no warning", async () => {
    const check = await p.run(['check']);
    assert.equal(check.code, 0, check.stdout);
    for (const [app] of SINGLE_KIND_APPS)
      assert.match(
        check.stdout,
        new RegExp(`^✓ app ${app}: apps/${app}/grpc_services/index\\.ts -> ${app}\\.v1\\.\\w+Service \\(\\w+Service\\)$`, 'm'),
      );
    assert.match(check.stdout, /^✓ app notes: apps\/notes\/grpc_services\/index\.ts -> notes\.v1\.NotesService \(NotesService\)$/m);
    assert.match(check.stdout, /^✓ lint: proto\/ clean under cfg's default rules \(5 file\(s\)\)$/m);
    assert.match(check.stdout, /no problems found: 5 service\(s\); 0 problem\(s\), 0 warning\(s\)/);
  });

  test('each generated test starts the server with its app and passes: all 8 RPCs answer the placeholder UNIMPLEMENTED', async () => {
    const tests = [...SINGLE_KIND_APPS.map(([app]) => `test/${app}.test.ts`), 'test/notes.test.ts'];
    const node = await runProgram(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...tests], p.root);
    assert.equal(node.code, 0, node.out);
    assert.match(node.out, /^# pass 8$/m);
    assert.match(node.out, /^# fail 0$/m);
    for (const rpc of ['Get (unary)', 'Watch (server-stream)', 'Upload (client-stream)', 'Chat (bidi)']) {
      assert.equal(
        node.out.split('\n').filter((l) => l.includes(`ok `) && l.includes(`- ${rpc} answers UNIMPLEMENTED until it is written`)).length,
        2,
        rpc,
      );
    }
  });
});
