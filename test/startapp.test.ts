// `cfg startapp NAME`, run as a user runs it in a fresh project: for each RPC kind, the app it
// writes compiles, lints and formats clean, is enabled, is served, and its own test passes; the
// README's flow (one edit of the service class) gives a working RPC; taken or invalid names are
// refused with nothing written; a failed generation leaves nothing behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { addToArray } from '../src/commands/startapp/enable-app.ts';
import { TestClient, type AnyDefinition } from './fixtures/client.ts';
import { bareProject, importFrom, REPO, type Project } from './fixtures/project.ts';

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

/** A project as a team starts one: package.json, node_modules, a cfg.config.ts importing 'cfg'; no apps, no protos. */
async function freshProject(enabledApps = '[]'): Promise<Project> {
  const p = await bareProject(
    {
      'cfg.config.ts': `import { defineConfig } from 'cfg';

export default defineConfig({
  grpc: {
    server: { host: '127.0.0.1', port: 0 },
    enabledApps: ${enabledApps},
    monitor: { enabled: false },
  },
});
`,
    },
    'cfg-startapp-',
  );
  projects.push(p);
  return p;
}

/** Every file of the project but node_modules (path -> text). */
async function files(p: Project): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else out.set(relative(p.root, path), await readFile(path, 'utf8'));
    }
  };
  await walk(p.root);
  return out;
}

/** Runs a program to completion; not as a child of this test (node --test in it runs its own files). */
function run(file: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: 110_000, maxBuffer: 16 << 20, env: { ...env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const KINDS = { unary: ['Get'], 'server-stream': ['Watch'], 'client-stream': ['Upload'], bidi: ['Chat'] } as const;

describe('cfg startapp', () => {
  test('one app per RPC kind and one with all four: written, generated, enabled; tsc, buf lint and buf format pass; each generated test passes against a real server', async () => {
    const p = await freshProject();
    const apps: Array<[string, string[]]> = [
      ['unary_app', ['unary']],
      ['feed', ['server-stream']],
      ['uploads', ['client-stream']],
      ['chat2', ['bidi']],
      ['notes', ['unary', 'server-stream', 'client-stream', 'bidi']],
    ];
    for (const [app, kinds] of apps) {
      const r = await p.run(['startapp', app, '--rpc', ...kinds]);
      assert.equal(r.code, 0, r.stderr);
      const rpcs = kinds.flatMap((k) => KINDS[k as keyof typeof KINDS]);
      assert.match(r.stdout, new RegExp(`^created app ${app}: service ${app}\\.v1\\.\\w+Service \\(${rpcs.join(', ')}\\)$`, 'm'));
      for (const file of [`proto/${app}.proto`, `apps/${app}/grpc_services/index.ts`, `apps/${app}/grpc_services/${app}_service.ts`, `test/${app}.test.ts`]) {
        assert.match(r.stdout, new RegExp(`^  ${file}$`, 'm'), file);
      }
      assert.match(r.stdout, new RegExp(`^enabled added '${app}' to grpc.enabledApps in cfg.config.ts$`, 'm'));
      assert.match(r.stdout, /^next:$/m);
    }
    // Every app enabled, in the order they were made, and the file still loads.
    assert.match(await p.read('cfg.config.ts'), /enabledApps: \['unary_app', 'feed', 'uploads', 'chat2', 'notes'\],/);
    const stub = await p.read('generated/notes.ts');
    assert.match(stub, /export const NotesServiceService = \{/);
    assert.match(stub, /path: "\/notes\.v1\.NotesService\/Chat" as const,\s+requestStream: true as const,\s+responseStream: true as const,/);

    // The code compiles under the repository's strict settings.
    await writeFile(p.path('tsconfig.json'), JSON.stringify({ extends: join(REPO, 'tsconfig.json'), include: ['apps', 'test', 'generated', 'cfg.config.ts'], exclude: [] }));
    const tsc = await run(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', p.path('tsconfig.json'), '--pretty', 'false'], p.root);
    assert.equal(tsc.code, 0, tsc.out);

    // The protos follow buf's lint rules and formatting.
    const lint = await p.run(['proto', 'lint']);
    assert.equal(lint.code, 0, lint.stdout + lint.stderr);
    assert.match(lint.stdout, /✓ proto\/: 5 file\(s\) clean under cfg's default rules/);
    const format = await p.run(['proto', 'format', '--check']);
    assert.equal(format.code, 0, format.stdout + format.stderr);

    // cfg check finds each app's service.
    const check = await p.run(['check']);
    assert.equal(check.code, 0, check.stdout);
    assert.match(check.stdout, /✓ app notes: apps\/notes\/grpc_services\/index\.ts -> notes\.v1\.NotesService \(NotesService\)/);
    assert.match(check.stdout, /no problems found: 5 service\(s\); 0 problem\(s\), 0 warning\(s\)/);

    // The generated tests start the server with their app and call each RPC (8 of them).
    const tests = apps.map(([app]) => `test/${app}.test.ts`);
    const node = await run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...tests], p.root);
    assert.equal(node.code, 0, node.out);
    assert.match(node.out, /^# pass 8$/m);
    assert.match(node.out, /^# fail 0$/m);
  });

  test('the README flow: startapp notes, the one edit README shows in the service class, and rungrpc answers it', async () => {
    const p = await freshProject();
    const r = await p.run(['startapp', 'notes']);
    assert.equal(r.code, 0, r.stderr);

    // The edit README.md shows: the line that replaces abortUnimplemented in get().
    const readme = await readFile(join(REPO, 'README.md'), 'utf8');
    const edit = /replace the `abortUnimplemented` line[^`]*`get`[^`]*```ts\n([^\n]+)\n```/.exec(readme);
    assert.ok(edit, 'README.md shows the edit of the service class after cfg startapp');
    const file = 'apps/notes/grpc_services/notes_service.ts';
    const before = await p.read(file);
    const placeholder = /^ {4}this\.abortUnimplemented\(ctx, 'NotesService\.Get is not implemented yet'\);$/m;
    assert.match(before, placeholder);
    await p.write(file, before.replace(placeholder, `    ${edit[1]!.trim()}`));

    const { NotesServiceService } = (await importFrom(p, 'generated/notes.ts')) as { NotesServiceService: AnyDefinition };
    const server = p.spawn(['rungrpc']);
    try {
      const client = new TestClient(NotesServiceService, await server.port());
      try {
        assert.deepEqual(await client.unary('get', { text: 'hi' }), { text: 'you sent hi' });
      } finally {
        client.close();
      }
    } finally {
      await server.stop();
    }
  });

  test('refuses an existing app, proto or test, an invalid name, and a name taken by a proto package: one line, exit 1, nothing written', async () => {
    const p = await freshProject("['notes']");
    await p.write('apps/notes/models.ts', 'export {};\n');
    await p.write('proto/billing.proto', 'syntax = "proto3";\n\n// package orders; in a comment does not count\npackage orders.v2;\n\nmessage Bill {\n  string id = 1;\n}\n');
    await p.write('proto/chat.proto', 'syntax = "proto3";\n\npackage talk.v1;\n');
    await p.write('test/audit.test.ts', 'export {};\n');
    const start = await files(p);

    const refusals: Array<[string, RegExp]> = [
      ['notes', /^error E_APP_EXISTS An app named "notes" already exists: apps\/notes is there\.\nhint {2}Choose another name, or remove what is there first\.\n$/],
      ['chat', /^error E_APP_EXISTS An app named "chat" already exists: proto\/chat\.proto is there\./],
      ['audit', /^error E_APP_EXISTS An app named "audit" already exists: test\/audit\.test\.ts is there\./],
      ['orders', /^error E_APP_NAME "orders" clashes with package orders\.v2, declared in proto\/billing\.proto: the app's package would be orders\.v1\.\nhint {2}Choose another name for the app\.\n$/],
      ['grpc', /^error E_APP_NAME "grpc" clashes with the proto packages grpc\.\* that cfg serves or imports\./],
      ['google', /^error E_APP_NAME "google" clashes with the proto packages google\.\*/],
    ];
    for (const bad of ['Notes', 'my-app', '1notes', 'notes_', 'a__b', '_x', 'notes.v1', 'x'.repeat(41)]) {
      refusals.push([bad, /^error E_APP_NAME "[^"]+" is not a valid app name: it names a folder, a proto package and a TypeScript class\.\nhint {2}Use lower_snake_case: /]);
    }
    for (const [name, expected] of refusals) {
      const r = await p.run(['startapp', name]);
      assert.equal(r.code, 1, `${name}: ${r.stdout}`);
      assert.match(r.stderr, expected, name);
      assert.equal(r.stdout, '', name);
    }
    const unknownKind = await p.run(['startapp', 'ok', '--rpc', 'duplex']);
    assert.equal(unknownKind.code, 1);
    assert.match(unknownKind.stderr, /error: option '--rpc <kind\.\.\.>' argument 'duplex' is invalid\. Allowed choices are unary, server-stream, client-stream, bidi\./);
    assert.deepEqual(await files(p), start, 'nothing written by any refusal');
  });

  test('another .proto that does not compile: startapp fails with buf\'s message, and every file it wrote is removed', async () => {
    const p = await freshProject();
    await p.write('proto/broken.proto', 'syntax = "proto3";\npackage broken.v1;\nmessage M {\n  strin a = 1;\n}\n');
    const start = await files(p);
    const r = await p.run(['startapp', 'notes']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error E_PROTO_COMPILE buf could not compile proto\/:\nproto\/broken\.proto:4:3:/);
    assert.match(r.stderr, /^hint {2}Nothing was created\. Fix the \.proto at the place shown/m);
    assert.deepEqual(await files(p), start);
  });

  test('grpc.enabledApps it cannot edit safely: cfg.config.ts untouched, the exact line to add printed', async () => {
    const cases: Array<[string, RegExp]> = [
      ["process.env.APPS ? process.env.APPS.split(',') : ['a']", /^not enabled: enabledApps is not an array literal\. Add this line to grpc in cfg\.config\.ts:\n {2}enabledApps: \['a', 'notes'\],$/m],
      // An array literal that the code around it changes: the edited file is loaded first, and does not give ['a', 'notes'].
      ["['a'].filter((app) => app !== 'notes')", /^not enabled: the edit would not give the expected list\. Add this line to grpc in cfg\.config\.ts:\n {2}enabledApps: \['a', 'notes'\],$/m],
    ];
    for (const [apps, expected] of cases) {
      const p = await freshProject(apps);
      const config = await p.read('cfg.config.ts');
      const r = await p.run(['startapp', 'notes']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, expected);
      assert.equal(await p.read('cfg.config.ts'), config);
    }
  });
});

describe('adding the app to grpc.enabledApps in the text of cfg.config.ts', () => {
  const edit = (inner: string) => addToArray(`export default defineConfig({\n  grpc: {\n    enabledApps: ${inner},\n  },\n});\n`, 'notes');
  const apps = (text: string | { reason: string }) => (typeof text === 'string' ? /enabledApps: ([\s\S]*?\]),\n  \}/.exec(text)![1] : text);

  test('keeps the layout: empty, one line, trailing comma, double quotes, one item per line', () => {
    assert.equal(apps(edit('[]')), "['notes']");
    assert.equal(apps(edit("['crypto']")), "['crypto', 'notes']");
    assert.equal(apps(edit("[ 'crypto', 'shop' ]")), "[ 'crypto', 'shop', 'notes' ]");
    assert.equal(apps(edit("['crypto',]")), "['crypto', 'notes',]");
    assert.equal(apps(edit('["crypto"]')), '["crypto", "notes"]');
    assert.equal(apps(edit("[\n      'crypto',\n      'shop'\n    ]")), "[\n      'crypto',\n      'shop',\n      'notes'\n    ]");
    assert.equal(apps(edit("[\n      'crypto',\n    ]")), "[\n      'crypto',\n      'notes',\n    ]");
  });

  test('refuses what it cannot edit safely, saying why', () => {
    assert.deepEqual(addToArray('export default defineConfig({});\n', 'notes'), { reason: 'cfg.config.ts does not set enabledApps' });
    assert.deepEqual(edit("['a'], // enabledApps: ['b']"), { reason: 'cfg.config.ts names enabledApps 2 times' });
    assert.deepEqual(addToArray("// enabledApps: ['a']\nexport default {};\n", 'notes'), { reason: 'enabledApps is inside a comment' });
    assert.deepEqual(addToArray("/* old:\n enabledApps: ['a']\n*/\n", 'notes'), { reason: 'enabledApps is inside a comment' });
    assert.deepEqual(edit('APPS'), { reason: 'enabledApps is not an array literal' });
    assert.deepEqual(edit("[...base, 'a']"), { reason: 'enabledApps holds more than plain strings' });
    assert.deepEqual(edit("[name, 'a']"), { reason: 'enabledApps holds more than plain strings' });
  });
});
