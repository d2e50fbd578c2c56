// `cfg startproject`: a new folder (package.json depending on cfg-grpc, cfg.config.ts, apps/,
// proto/, prisma/ with cfg's models and migration, tsconfig.json, cfg-env.d.ts, README, .ci/run);
// "." in a project that has its own package.json (merged, never overwritten); refusals; and a
// project made with --app, set up and served (its app answering), given a model of its own (its
// Prisma client has it beside cfg's), its app's test passing; the project root is never a folder
// inside node_modules. cfg's models and migration in the template agree with this repository's
// schema and with what the schema engine makes of them. (Packed and installed: package.test.ts.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { diffSchemas } from '../src/db/makemigrations.ts';
import { schemaFor } from '../src/db/generate.ts';
import { findProjectRoot } from '../src/config/load.ts';
import { bareProject, CfgProcess, Project, REPO, tempDir } from './fixtures/project.ts';
import { PG_URL } from './support/db.ts';

const TEMPLATE = join(REPO, 'src', 'commands', 'startproject', 'template', 'prisma');
const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const projects: Project[] = [];
const servers: CfgProcess[] = [];
after(async () => {
  for (const s of servers) await s.stop();
  for (const p of projects) await p.remove();
});

async function folder(): Promise<Project> {
  const p = new Project(await tempDir('cfg-startproject-'));
  projects.push(p);
  return p;
}

test('startproject NAME: a new folder with everything a project needs, depending on this cfg', async () => {
  const here = await folder();
  const r = await here.run(['startproject', 'shop-api']);
  assert.equal(r.code, 0, r.stderr);
  const root = here.path('shop-api');
  assert.match(r.stdout, /^created project shop-api in shop-api\n/);
  assert.match(r.stdout, /cd shop-api && npm install/);
  for (const f of [
    'package.json',
    'cfg.config.ts',
    'cfg-env.d.ts',
    'tsconfig.json',
    'README.md',
    '.gitignore',
    '.ci/run',
    'apps/.gitkeep',
    'proto/.gitkeep',
    'prisma/schema.prisma',
  ]) {
    assert.ok(existsSync(join(root, f)), f);
    assert.match(r.stdout, new RegExp(`^  ${f.replace(/\./g, '\\.')}$`, 'm'), `${f} listed`);
  }
  for (const provider of ['sqlite', 'postgresql']) {
    for (const f of ['00000000000000_cfg/migration.sql', '00000000000000_cfg/schema.prisma', 'migration_lock.toml'])
      assert.ok(existsSync(join(root, 'prisma', 'migrations', provider, f)), `${provider}/${f}`);
  }
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  assert.equal(pkg.name as unknown, 'shop-api');
  assert.equal(pkg.type as unknown, 'module');
  assert.deepEqual(pkg.dependencies, { 'cfg-grpc': `^${version}` });
  assert.equal(pkg.scripts!.postinstall, 'cfg setup');
  assert.equal(pkg.allowScripts!['better-sqlite3'], true);
  assert.equal(pkg.allowScripts!['@prisma/engines'], false, "Prisma's engines are never downloaded");
  assert.match(
    await readFile(join(root, 'cfg.config.ts'), 'utf8'),
    /^import \{ defineConfig \} from 'cfg-grpc';$[\s\S]*enabledApps: \[\],/m,
  );
  assert.match(await readFile(join(root, 'README.md'), 'utf8'), /npm install && npx cfg rungrpc/);
  assert.ok(statSync(join(root, '.ci', 'run')).mode & 0o100, '.ci/run is executable');
  assert.equal(await readFile(join(root, 'prisma', 'schema.prisma'), 'utf8'), await readFile(join(TEMPLATE, 'schema.prisma'), 'utf8'));

  // A second time: refused, whole.
  const again = await here.run(['startproject', 'shop-api']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error E_PROJECT_EXISTS .*shop-api is a cfg project already/m);
  const inside = await new Project(root).run(['startproject', '.']);
  assert.match(inside.stderr, /^error E_PROJECT_EXISTS /m);
  const bad = await here.run(['startproject', 'Shop API']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error E_USAGE "shop api" is not a valid package name/m);
  assert.ok(!existsSync(here.path('Shop API')), 'nothing written for a refused name');
});

test('startproject . in a folder with a package.json of its own: cfg added, nothing of it overwritten', async () => {
  const p = await folder();
  const own = {
    name: 'legacy-service',
    version: '2.0.0',
    scripts: { test: 'mocha', start: 'node index.js' },
    dependencies: { 'cfg-grpc': 'file:../cfg-grpc.tgz', express: '^4.0.0' },
  };
  await writeFile(p.path('package.json'), JSON.stringify(own));
  await writeFile(p.path('README.md'), '# legacy\n');
  await writeFile(p.path('.gitignore'), 'node_modules\n');
  const r = await p.run(['startproject', '.', '--cfg', '^9.9.9']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created project legacy-service in \. \(package\.json: cfg's scripts and dependencies added\)/);
  assert.match(r.stdout, /^note package\.json has no "type": "module"/m);
  assert.match(r.stdout, /^note README\.md was there and is kept/m);
  const pkg = JSON.parse(await p.read('package.json')) as Record<string, Record<string, string>>;
  assert.deepEqual(pkg.scripts, { test: 'mocha', start: 'node index.js', postinstall: 'cfg setup', check: 'cfg check' });
  assert.deepEqual(pkg.dependencies, own.dependencies, 'its cfg-grpc spec kept');
  assert.deepEqual(Object.keys(pkg.devDependencies!).sort(), ['@types/node', 'tsx', 'typescript']);
  assert.equal(await p.read('README.md'), '# legacy\n');
  assert.equal(await p.read('.gitignore'), 'node_modules\n');
  assert.ok(existsSync(p.path('cfg.config.ts')) && existsSync(p.path('prisma', 'schema.prisma')));

  // A folder holding one file startproject would write: refused, nothing written.
  const q = await folder();
  await mkdir(q.path('.ci'));
  await writeFile(q.path('.ci', 'run'), 'make test\n');
  const refused = await q.run(['startproject', '.']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error E_PROJECT_EXISTS \. already has \.ci\/run: cfg startproject writes nothing over a file\.$/m);
  assert.ok(!existsSync(q.path('cfg.config.ts')) && !existsSync(q.path('package.json')) && !existsSync(q.path('prisma')));
});

test('a project made with --app: cfg setup, rungrpc serves the app; a model of its own in its own Prisma client; its test passes', async () => {
  const p = await bareProject({}, 'cfg-startproject-app-');
  projects.push(p);
  const made = await p.run(['startproject', '.', '--app', 'notes']);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^ {2}apps\/notes\/grpc_services\/notes_service\.ts$/m);
  assert.match(await p.read('cfg.config.ts'), /enabledApps: \['notes'\],/);

  const setup = await p.run(['setup'], {}, 90_000);
  assert.equal(setup.code, 0, setup.stderr);
  assert.match(setup.stdout, /gRPC stubs from 1 proto file\(s\)/);
  assert.match(setup.stdout, /1 migration\(s\) applied/);
  assert.ok(existsSync(p.path('generated', 'prisma', 'sqlite', 'client.ts')), "the project's own Prisma client");

  const server = p.spawn(['rungrpc'], { CFG_GRPC_HOST: '127.0.0.1', CFG_GRPC_PORT: '0', CFG_LOG_FORMAT: 'json' });
  servers.push(server);
  const port = await server.port();
  assert.match(server.stdout, /notes\.v1\.NotesService \(NotesService\)/);
  const call = await p.run(['call', `127.0.0.1:${port}`, 'notes.v1.NotesService/Get', '{"text": "hi"}']);
  assert.equal(call.code, 12, call.stderr);
  assert.match(call.stderr, /^error UNIMPLEMENTED NotesService\.Get is not implemented yet$/m);
  server.kill('SIGTERM');
  await server.exited;
  assert.match(server.stderr, /"msg":"stopped"/);

  // A model of its own beside cfg's: makemigrations (which regenerates the project's client),
  // migrate, and getDb() from cfg-grpc/db has both.
  const schema = `${await p.read('prisma/schema.prisma')}\nmodel Note {\n  id   Int    @id @default(autoincrement())\n  text String\n\n  @@map("notes_note")\n}\n`;
  await writeFile(p.path('prisma', 'schema.prisma'), schema);
  const made2 = await p.run(['makemigrations', '--name', 'notes'], {}, 90_000);
  assert.equal(made2.code, 0, made2.stderr);
  assert.match(made2.stdout, /^wrote prisma\/migrations\/sqlite\/\d{14}_notes\/migration\.sql$/m);
  assert.match(made2.stdout, /regenerated the Prisma clients/);
  const migrated = await p.run(['migrate'], {}, 90_000);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.match(migrated.stdout, /^1 migration\(s\) applied/m);
  await writeFile(
    p.path('count.ts'),
    "import { closeDb, getDb } from 'cfg-grpc/db';\nconst db = await getDb();\nawait db.note.create({ data: { text: 'buy milk' } });\nconsole.log(await db.note.count(), await db.user.count());\nawait closeDb(db);\n",
  );
  const counted = new CfgProcess(
    spawn(process.execPath, ['--import', 'tsx', 'count.ts'], { cwd: p.root, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  servers.push(counted);
  assert.equal((await counted.exited).code, 0, counted.stderr);
  assert.equal(counted.stdout, '1 0\n');

  const { NODE_TEST_CONTEXT: _, ...env } = process.env; // a test run of its own, not a child of this one
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'test/notes.test.ts'], {
    cwd: p.root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tested = new CfgProcess(child);
  servers.push(tested);
  const { code } = await tested.exited;
  assert.equal(code, 0, `${tested.stdout}\n${tested.stderr}`);
  assert.match(tested.stdout, /^# pass 1$/m);
});

test('the project root is the nearest folder with cfg.config.ts, never one inside node_modules', async () => {
  const p = await folder();
  await mkdir(p.path('node_modules', 'some-pkg', 'lib'), { recursive: true });
  await writeFile(p.path('cfg.config.ts'), '');
  await writeFile(p.path('node_modules', 'some-pkg', 'cfg.config.ts'), '');
  assert.equal(findProjectRoot(p.path('node_modules', 'some-pkg', 'lib')), p.root);
  assert.equal(findProjectRoot(p.path('node_modules', 'some-pkg')), p.root);
  await mkdir(p.path('apps', 'notes'), { recursive: true });
  assert.equal(findProjectRoot(p.path('apps', 'notes')), p.root);
});

test("the template's models are this repository's cfg models, and its migrations are what the schema engine makes of them", async () => {
  const template = await readFile(join(TEMPLATE, 'schema.prisma'), 'utf8');
  const repo = await readFile(join(REPO, 'prisma', 'schema.prisma'), 'utf8');
  const models = (schema: string) => new Map([...schema.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)].map((m) => [m[1]!, m[2]!]));
  const ours = models(template);
  const theirs = models(repo);
  assert.deepEqual(
    [...ours.keys()],
    ['User', 'Group', 'Permission', 'UserGroup', 'UserPermission', 'GroupPermission', 'ApiKey', 'RequestLog', 'ServerInstance', 'Event'],
  );
  for (const [name, body] of ours) {
    // The repository's User also has its crypto app's relation (wallets Wallet[]).
    const expected = theirs
      .get(name)!
      .split('\n')
      .filter((line) => !/^\s+\w+\s+(Wallet|Coin|Transfer)\b/.test(line))
      .join('\n');
    assert.equal(body, expected, `model ${name}`);
  }
  for (const provider of ['sqlite', 'postgresql'] as const) {
    const dir = join(TEMPLATE, 'migrations', provider, '00000000000000_cfg');
    const snapshot = schemaFor(template, provider, `../generated/prisma/${provider}`);
    assert.equal(await readFile(join(dir, 'schema.prisma'), 'utf8'), snapshot, `${provider} snapshot`);
    assert.equal(
      await readFile(join(dir, 'migration.sql'), 'utf8'),
      await diffSchemas(provider, null, snapshot, PG_URL),
      `${provider} migration.sql`,
    );
  }
});
