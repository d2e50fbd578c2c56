// What `cfg startapp` refuses or leaves to the user: a taken name (app, proto, test, a proto
// package), an invalid one, a failed generation (nothing left behind), and a grpc.enabledApps it
// cannot edit safely (cfg.config.ts untouched, the line to add printed). Each refusal is one line
// with its code and what to do, and writes nothing.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { addToArray } from '../src/commands/startapp/enable-app.ts';
import { startApp } from '../src/commands/startapp/create-app.ts';
import { CfgError } from '../src/errors.ts';
import type { Project } from './fixtures/project.ts';
import { freshProject, projectFiles } from './support/startapp-project.ts';

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

/** The CfgError startApp fails with, as [code, message, hint]. */
async function refusal(p: Project, name: string): Promise<[string, string, string | undefined]> {
  try {
    await startApp({ name, rpcs: ['unary'], cwd: p.root });
  } catch (err) {
    assert.ok(err instanceof CfgError, String(err));
    return [err.code, err.message, err.hint];
  }
  throw new Error(`startapp ${name} was not refused`);
}

describe('cfg startapp refuses', () => {
  test('a taken name (app folder, proto, test, a proto package) and an invalid one; nothing written', async () => {
    const p = await freshProject(projects, "['notes']");
    await p.write('apps/notes/models.ts', 'export {};\n');
    await p.write(
      'proto/billing.proto',
      'syntax = "proto3";\n\n// package orders; in a comment does not count\npackage orders.v2;\n\nmessage Bill {\n  string id = 1;\n}\n',
    );
    await p.write('proto/chat.proto', 'syntax = "proto3";\n\npackage talk.v1;\n');
    await p.write('test/audit.test.ts', 'export {};\n');
    const start = await projectFiles(p);

    const again = 'Choose another name, or remove what is there first.';
    assert.deepEqual(await refusal(p, 'notes'), ['E_APP_EXISTS', 'An app named "notes" already exists: apps/notes is there.', again]);
    assert.deepEqual(await refusal(p, 'chat'), ['E_APP_EXISTS', 'An app named "chat" already exists: proto/chat.proto is there.', again]);
    assert.deepEqual(await refusal(p, 'audit'), [
      'E_APP_EXISTS',
      'An app named "audit" already exists: test/audit.test.ts is there.',
      again,
    ]);
    assert.deepEqual(await refusal(p, 'orders'), [
      'E_APP_NAME',
      '"orders" clashes with package orders.v2, declared in proto/billing.proto: the app\'s package would be orders.v1.',
      'Choose another name for the app.',
    ]);
    assert.deepEqual(await refusal(p, 'talk'), [
      'E_APP_NAME',
      '"talk" clashes with package talk.v1, declared in proto/chat.proto: the app\'s package would be talk.v1.',
      'Choose another name for the app.',
    ]);
    for (const reserved of ['grpc', 'google']) {
      assert.deepEqual(await refusal(p, reserved), [
        'E_APP_NAME',
        `"${reserved}" clashes with the proto packages ${reserved}.* that cfg serves or imports.`,
        'Choose another name for the app.',
      ]);
    }
    for (const bad of ['Notes', 'my-app', '1notes', 'notes_', 'a__b', '_x', 'notes.v1', 'x'.repeat(41), '']) {
      const [code, message, hint] = await refusal(p, bad);
      assert.equal(code, 'E_APP_NAME', bad);
      assert.equal(message, `"${bad}" is not a valid app name: it names a folder, a proto package and a TypeScript class.`);
      assert.match(
        hint!,
        /^Use lower_snake_case: a letter, then letters, digits and single underscores, at most 40 characters \(notes, order_items\)\.$/,
      );
    }
    assert.deepEqual(await projectFiles(p), start, 'nothing written by any refusal');
  });

  test('on the command line: one line with the code, one with what to do, exit 1; an unknown --rpc kind is named with the choices', async () => {
    const p = await freshProject(projects);
    await p.write('apps/notes/models.ts', 'export {};\n');
    const taken = await p.run(['startapp', 'notes']);
    assert.equal(taken.code, 1);
    assert.equal(
      taken.stderr,
      'error E_APP_EXISTS An app named "notes" already exists: apps/notes is there.\nhint  Choose another name, or remove what is there first.\n',
    );
    assert.equal(taken.stdout, '');
    const kind = await p.run(['startapp', 'ok', '--rpc', 'duplex']);
    assert.equal(kind.code, 1);
    assert.match(
      kind.stderr,
      /^error: option '--rpc <kind\.\.\.>' argument 'duplex' is invalid\. Allowed choices are unary, server-stream, client-stream, bidi\.$/m,
    );
  });

  test("another .proto that does not compile: buf's message, and every file startapp wrote removed", async () => {
    const p = await freshProject(projects);
    await p.write('proto/broken.proto', 'syntax = "proto3";\npackage broken.v1;\nmessage M {\n  strin a = 1;\n}\n');
    const start = await projectFiles(p);
    const [code, message, hint] = await refusal(p, 'notes');
    assert.equal(code, 'E_PROTO_COMPILE');
    assert.match(message, /^buf could not compile proto\/:\nproto\/broken\.proto:4:3:/);
    assert.match(hint!, /^Nothing was created\. Fix the \.proto at the place shown/);
    assert.deepEqual(await projectFiles(p), start);
  });
});

describe('grpc.enabledApps', () => {
  test('that cannot be edited safely: cfg.config.ts untouched, the exact line to add printed', async () => {
    const cases: Array<[string, string]> = [
      ["process.env.APPS ? process.env.APPS.split(',') : ['a']", 'enabledApps is not an array literal'],
      // An array literal the code around it changes: the edited text, loaded first, does not give ['a', 'notes'].
      ["['a'].filter((app) => app !== 'notes')", 'the edit would not give the expected list'],
    ];
    for (const [apps, reason] of cases) {
      const p = await freshProject(projects, apps);
      const config = await p.read('cfg.config.ts');
      const r = await p.run(['startapp', 'notes']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`^not enabled: ${reason}\\. Add this line to grpc in cfg\\.config\\.ts:\\n {2}enabledApps: \\['a', 'notes'\\],$`, 'm'),
      );
      assert.equal(await p.read('cfg.config.ts'), config);
    }
  });

  const edit = (inner: string) => addToArray(`export default defineConfig({\n  grpc: {\n    enabledApps: ${inner},\n  },\n});\n`, 'notes');
  const apps = (text: string | { reason: string }) =>
    typeof text === 'string' ? /enabledApps: ([\s\S]*?\]),\n {2}\}/.exec(text)![1] : text;

  test('the edit keeps the layout: empty, one line, trailing comma, double quotes, one item per line', () => {
    assert.equal(apps(edit('[]')), "['notes']");
    assert.equal(apps(edit("['crypto']")), "['crypto', 'notes']");
    assert.equal(apps(edit("[ 'crypto', 'shop' ]")), "[ 'crypto', 'shop', 'notes' ]");
    assert.equal(apps(edit("['crypto',]")), "['crypto', 'notes',]");
    assert.equal(apps(edit('["crypto"]')), '["crypto", "notes"]');
    assert.equal(apps(edit("[\n      'crypto',\n      'shop'\n    ]")), "[\n      'crypto',\n      'shop',\n      'notes'\n    ]");
    assert.equal(apps(edit("[\n      'crypto',\n    ]")), "[\n      'crypto',\n      'notes',\n    ]");
  });

  test('the edit refuses what it cannot do safely, saying why', () => {
    assert.deepEqual(addToArray('export default defineConfig({});\n', 'notes'), { reason: 'cfg.config.ts does not set enabledApps' });
    assert.deepEqual(edit("['a'], // enabledApps: ['b']"), { reason: 'cfg.config.ts names enabledApps 2 times' });
    assert.deepEqual(addToArray("// enabledApps: ['a']\nexport default {};\n", 'notes'), { reason: 'enabledApps is inside a comment' });
    assert.deepEqual(addToArray("/* old:\n enabledApps: ['a']\n*/\n", 'notes'), { reason: 'enabledApps is inside a comment' });
    assert.deepEqual(edit('APPS'), { reason: 'enabledApps is not an array literal' });
    assert.deepEqual(edit("[...base, 'a']"), { reason: 'enabledApps holds more than plain strings' });
    assert.deepEqual(edit("[name, 'a']"), { reason: 'enabledApps holds more than plain strings' });
  });
});
