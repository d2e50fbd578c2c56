// cfg as a team gets it: the package packed (`npm pack`, from a copy of this repository's package
// files, so that the pack's manifest swap and build never touch the repository the other tests
// run in), installed from its tarball into a fresh project in a temp folder outside the
// repository, then README "Use cfg in your project": `cfg startproject .`, `npm install` (its
// postinstall runs cfg setup), the notes app of "Writing a service", `cfg generate-proto`,
// `cfg migrate`, `cfg rungrpc`, calls through reflection (`cfg call`, `cfg list`), and a SIGTERM
// that stops it. Every cfg command is the project's own node_modules/.bin/cfg, run by npx.
//
// npm installs the dependencies from the registry, taking what npm's cache holds (--prefer-offline).
// better-sqlite3's prebuilt binary cannot be downloaded here (GitHub is out of reach), so npm
// would compile it (~60-80 s on 2 cores); the test hands prebuild-install this repository's build
// of it as a local prebuild instead, which is what the download would have brought.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { CfgProcess, REPO, tempDir } from './fixtures/project.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const timings: string[] = [];
const started: CfgProcess[] = [];
let packed: string;
let tarball: string;
let project: string;

after(async () => {
  for (const p of started) await p.stop();
  if (timings.length) process.stderr.write(`package.test.ts steps: ${timings.join(', ')}\n`);
});

/** The environment of the commands: npm's own variables of an enclosing `npm test` left out. */
function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(npm_(package|lifecycle|command|config_(prefix|local_prefix|global))|INIT_CWD|CFG_)/i.test(k)) out[k] = v;
  return { ...out, NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** Runs a command to its end (bounded); fails the test with its output unless it exits 0. */
function sh(
  cwd: string,
  command: string,
  args: string[],
  extra: NodeJS.ProcessEnv = {},
  timeoutMs = 90_000,
): { stdout: string; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(command, args, { cwd, env: env(extra), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  timings.push(
    `${[command, ...args.slice(0, 2)].join(' ').replace(/\/tmp\/\S+\//g, '')} ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  assert.equal(
    r.status,
    0,
    `${command} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}${r.error ? ` (${r.error.message})` : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
  );
  return { stdout: r.stdout, stderr: r.stderr };
}

/** `npx cfg <args>` in the project, run to its end. */
const cfg = (...args: string[]) => sh(project, 'npx', ['cfg', ...args]);

/** The README's code block that starts with `// <path>`, under "## Writing a service". */
function readmeFile(path: string): string {
  const section = README.split(/^## /m).find((s) => s.startsWith('Writing a service\n'))!;
  const block = [...section.matchAll(/^```\w*\n([\s\S]*?)^```$/gm)].map((m) => m[1]!).find((b) => b.startsWith(`// ${path}\n`));
  assert.ok(block, `README "Writing a service" has a block for ${path}`);
  return block!;
}

test('npm pack: compiled JavaScript with declarations and the cfg executable; no tests, fixtures, bench, example app or source', async () => {
  // The package's files as a clean checkout has them, with this repository's node_modules.
  packed = await tempDir('cfg-pack-');
  for (const f of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', '.gitignore'])
    await cp(join(REPO, f), join(packed, f));
  for (const d of ['bin', 'scripts', 'src']) await cp(join(REPO, d), join(packed, d), { recursive: true });
  await symlink(join(REPO, 'node_modules'), join(packed, 'node_modules'), 'dir');
  if (existsSync(join(REPO, 'generated', 'prisma'))) {
    await mkdir(join(packed, 'generated'));
    await symlink(join(REPO, 'generated', 'prisma'), join(packed, 'generated', 'prisma'), 'dir');
  }
  const out = await tempDir('cfg-tarball-');
  const committed = await readFile(join(packed, 'package.json'), 'utf8');
  sh(packed, 'npm', ['pack', '--pack-destination', out], {}, 120_000);
  const [file] = (await readdir(out)).filter((f) => f.endsWith('.tgz'));
  assert.ok(file, 'npm pack wrote a tarball');
  tarball = join(out, file!);
  assert.equal(await readFile(join(packed, 'package.json'), 'utf8'), committed, 'postpack put the committed package.json back');

  const files = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  const size = statSync(tarball).size;
  timings.push(`tarball ${(size / 1024).toFixed(0)} kB, ${files.length} files`);
  assert.deepEqual(files.filter((f) => !f.startsWith('dist/')).sort(), ['README.md', 'bin/cfg', 'package.json']);
  assert.deepEqual(
    files.filter((f) => /(^|\/)(test|tests|fixtures|bench|apps|src)\/|\.test\.|\.map$|\.tsbuildinfo$|crypto/.test(f)),
    [],
  );
  for (const entry of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli.js',
    'dist/exports/testing.js',
    'dist/exports/testing.d.ts',
    'dist/db/prisma-client.d.ts',
  ]) {
    assert.ok(files.includes(entry), `${entry} is in the tarball`);
  }
  assert.deepEqual(
    files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
    [],
    'no TypeScript source',
  );

  const manifest = JSON.parse(spawnSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }).stdout) as Record<
    string,
    unknown
  >;
  assert.equal(manifest.name, 'cfg-grpc');
  assert.deepEqual(manifest.bin, { cfg: 'bin/cfg' });
  assert.equal(manifest.private, undefined);
  for (const gone of ['scripts', 'devDependencies']) assert.equal(manifest[gone], undefined, `no ${gone} in the packed package.json`);
  const exports = manifest.exports as Record<string, { types: string; default: string }>;
  assert.deepEqual(Object.keys(exports), ['.', './server', './db', './ops', './testing', './package.json']);
  for (const [sub, target] of Object.entries(exports)) {
    if (sub === './package.json') continue;
    assert.ok(
      files.includes(target.types.slice(2)) && files.includes(target.default.slice(2)),
      `${sub}: ${target.types} and ${target.default} are packed`,
    );
  }
});

test('a fresh project installs the tarball and gets the cfg command', async () => {
  project = await tempDir('cfg-consumer-');
  assert.ok(!project.startsWith(REPO), 'the project is outside the repository');
  await writeFile(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'shop', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
  );
  const prebuilds = await tempDir('cfg-prebuilds-');
  const sqlite = JSON.parse(await readFile(join(REPO, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string };
  const prebuild = join(
    prebuilds,
    `better-sqlite3-v${sqlite.version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`,
  );
  sh(join(REPO, 'node_modules', 'better-sqlite3'), 'tar', ['czf', prebuild, 'build/Release/better_sqlite3.node']);
  sh(
    project,
    'npm',
    ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'],
    { npm_config_better_sqlite3_local_prebuilds: prebuilds },
    110_000,
  );

  assert.equal(
    readlinkSync(join(project, 'node_modules', '.bin', 'cfg')),
    '../cfg-grpc/bin/cfg',
    "the project's own node_modules/.bin/cfg",
  );
  const installed = join(project, 'node_modules', 'cfg-grpc');
  assert.ok(!existsSync(join(installed, 'src')), 'no source: the installed cfg runs its compiled dist/');
  const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(cfg('--version').stdout, `${version}\n`);
});

test('README "Use cfg in your project": startproject, npm install, the notes app, generate-proto, migrate, rungrpc, calls by reflection', async () => {
  const section = README.split(/^## /m).find((s) => s.startsWith('Use cfg in your project\n'));
  assert.ok(section, 'README has a "Use cfg in your project" section');
  for (const line of [
    'npm install cfg-grpc',
    'npx cfg startproject .',
    'npm install',
    'npx cfg generate-proto',
    'npx cfg migrate',
    'npx cfg rungrpc',
  ]) {
    assert.ok(section!.includes(line), `the section says ${line}`);
  }

  const made = cfg('startproject', '.');
  assert.match(made.stdout, /created project shop in \./);
  for (const f of [
    'cfg.config.ts',
    'cfg-env.d.ts',
    'tsconfig.json',
    'README.md',
    '.ci/run',
    'prisma/schema.prisma',
    'prisma/migrations/sqlite/00000000000000_cfg/migration.sql',
    'apps/.gitkeep',
    'proto/.gitkeep',
  ]) {
    assert.ok(existsSync(join(project, f)), `startproject wrote ${f}`);
  }
  const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
  };
  assert.equal(pkg.scripts.postinstall, 'cfg setup');
  assert.match(pkg.dependencies['cfg-grpc']!, /^file:/, 'the installed spec is kept');
  // The dev tools it added (typescript, tsx, @types/node) and the postinstall: cfg setup.
  const install = sh(project, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], {}, 110_000);
  assert.match(install.stdout, /setup Prisma clients/);
  assert.ok(existsSync(join(project, 'generated', 'prisma', 'sqlite', 'client.ts')), "the project's own Prisma client, in its generated/");

  for (const path of ['proto/notes.proto', 'apps/notes/grpc_services/notes_service.ts', 'apps/notes/grpc_services/index.ts']) {
    await mkdir(join(project, path, '..'), { recursive: true });
    await writeFile(join(project, path), readmeFile(path));
  }
  const config = join(project, 'cfg.config.ts');
  await writeFile(config, (await readFile(config, 'utf8')).replace('enabledApps: []', "enabledApps: ['notes']"));

  assert.match(cfg('generate-proto').stdout, /generated 1 proto file/);
  assert.ok(existsSync(join(project, 'generated', 'notes.ts')));
  assert.match(cfg('migrate').stdout, /up to date|applied/);

  const t0 = performance.now();
  const server = new CfgProcess(
    spawn('npx', ['cfg', 'rungrpc'], {
      cwd: project,
      env: env({ CFG_GRPC_HOST: '127.0.0.1', CFG_GRPC_PORT: '0', CFG_LOG_FORMAT: 'json' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  started.push(server);
  const port = await server.port();
  timings.push(`rungrpc up ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  assert.match(server.stdout, /notes\.NotesService \(NotesService\)/);

  const address = `127.0.0.1:${port}`;
  assert.match(cfg('list', address).stdout, /^notes\.NotesService$/m);
  assert.deepEqual(JSON.parse(cfg('call', address, 'notes.NotesService/AddNote', '{"text": "buy milk"}').stdout), {
    id: 1,
    text: 'buy milk',
  });
  cfg('call', address, 'notes.NotesService/AddNote', '{"text": "call mum"}');
  assert.deepEqual(
    cfg('call', address, 'notes.NotesService/ListNotes', '{"contains": "milk"}', '--compact')
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    [{ id: 1, text: 'buy milk' }],
  );

  // SIGTERM to npx, as `kill %1` or a CI runner sends it: the server drains and stops.
  const closed = new Promise((resolve) => server.child.stderr!.once('close', resolve));
  server.kill('SIGTERM');
  await closed;
  assert.match(server.stderr, /"msg":"stopped"/);
  // cfg's tables came from its migration (prisma/migrations/*/00000000000000_cfg), applied in the project.
  const db = new Database(join(project, 'var', 'cfg.sqlite3'), { readonly: true });
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name);
    for (const table of ['auth_user', 'grpc_api_key', 'grpc_request_log', 'grpc_server'])
      assert.ok(tables.includes(table), `${table} in ${tables.join(', ')}`);
    const applied = db.prepare('SELECT migration_name FROM _prisma_migrations').all() as Array<{ migration_name: string }>;
    assert.deepEqual(
      applied.map((r) => r.migration_name),
      ['00000000000000_cfg'],
    );
  } finally {
    db.close();
  }
});
