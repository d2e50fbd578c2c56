// README.md, followed word for word in a copy of this repository as `npm install` leaves it (for
// test/readme*.test.ts; each file makes its own copy): its
// code blocks are the steps. A block whose first line is `// <path>` is written to that file;
// `// in <path>` replaces the lines of that file with the same key; a bash block is run line by
// line with sh (`... &` in the background, waiting for its banner; `VAR=$(...)` keeps the output
// for the lines after it). A `npx tsx` line's comment is its expected output. The only changes: every server gets a free port (CFG_GRPC_PORT, which the
// README's clients read too, and CFG_WEB_PORT for the web listener's localhost:8080), DATABASE_URL names a schema of the test database, and grpcurl lines
// run only where grpcurl is installed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import { CfgProcess, Project, REPO, tempDir } from '../fixtures/project.ts';
import { closedPort, PG_URL } from './db.ts';

const README = readFileSync(join(REPO, 'README.md'), 'utf8');
const hasGrpcurl = spawnSync('grpcurl', ['-version'], { stdio: 'ignore' }).status === 0;

interface Block {
  lang: string;
  lines: string[];
}

/** The fenced code blocks of the part of README.md under `heading` (up to the next "## "), or of its top. */
export function blocks(heading: string | null): Block[] {
  const parts = README.split(/^## /m);
  const part = heading === null ? parts[0]! : parts.find((p) => p.startsWith(`${heading}\n`));
  assert.ok(part !== undefined, `README.md has a "## ${heading}" section`);
  return [...part.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, lines: m[2]!.replace(/\n$/, '').split('\n') }));
}

let project: Project;
export const env: NodeJS.ProcessEnv = { NO_COLOR: '1', CFG_LOG_FORMAT: 'json', CFG_GRPC_HOST: '', DATABASE_URL: '' };
export const servers: CfgProcess[] = [];
export const schema = `cfg_readme_${process.pid}`;

/** The copy of the repository the README is followed in. */
export const readmeProject = (): Project => project;

/** A copy of this repository as a fresh clone is after `npm install` (stubs made, SQLite migrated and seeded), made before the importing file's tests. */
before(async () => {
  project = new Project(await tempDir('cfg-readme-'));
  for (const f of ['package.json', 'cfg.config.ts', 'tsconfig.json']) await cp(join(REPO, f), project.path(f));
  for (const d of ['apps', 'proto', 'prisma']) await cp(join(REPO, d), project.path(d), { recursive: true, preserveTimestamps: true });
  await cp(join(REPO, 'generated'), project.path('generated'), {
    recursive: true,
    preserveTimestamps: true,
    filter: (src) => !src.startsWith(join(REPO, 'generated', 'prisma')),
  });
  for (const l of ['node_modules', 'src', 'generated/prisma']) await symlink(join(REPO, l), project.path(l), 'dir');
  env.CFG_GRPC_PORT = String(await closedPort());
  env.CFG_WEB_PORT = String(await closedPort());
  for (const step of ['migrate', 'seed']) {
    const r = await project.run([step], env);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  for (const s of servers) await s.stop();
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
  await project?.remove();
});

/** Stops the servers a section started, as `kill %1` or a CI runner does: SIGTERM to npx; they drain and exit. */
export async function stopServers(): Promise<void> {
  for (const s of servers.splice(0)) {
    // npx exits at once; the server behind it drains, logs "stopped" and exits 0, closing the pipe.
    const closed = new Promise((resolve) => s.child.stderr!.once('close', resolve));
    s.kill('SIGTERM');
    await closed;
    assert.match(s.stderr, /"msg":"stopped"/, s.stderr);
  }
}

/** Runs one bash line as the README shows it; resolves to what it printed on stdout. */
export async function run(line: string): Promise<string> {
  const [command, comment] = line.split(/\s+#\s+/, 2) as [string, string | undefined];
  if (command.trim() === '' || command.startsWith('#')) return '';
  const exported = /^export (\w+)=(.*)$/.exec(command);
  if (exported) {
    env[exported[1]!] = exported[1] === 'DATABASE_URL' ? `${PG_URL}?schema=${schema}` : exported[2]!.replace(/^'(.*)'$/, '$1');
    return '';
  }
  const assigned = /^(\w+)=\$\((.*)\)$/.exec(command);
  if (assigned) {
    env[assigned[1]!] = (await run(assigned[2]!)).trim();
    return '';
  }
  if (command.startsWith('grpcurl') && !hasGrpcurl) return '';
  const shell = command
    .replace(/localhost:50051/g, `localhost:${env.CFG_GRPC_PORT}`)
    .replace(/localhost:8080/g, `localhost:${env.CFG_WEB_PORT}`)
    .replace(/\s*&\s*$/, '');
  // exec: the process the test holds (and later signals) is the command itself, npx for a server.
  const child = spawn('sh', ['-c', `exec ${shell}`], {
    cwd: project.root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new CfgProcess(child);
  if (/&\s*$/.test(command)) {
    servers.push(proc);
    await proc.port();
    return '';
  }
  const { code } = await proc.exited;
  assert.equal(code, 0, `${command}\n--- stdout\n${proc.stdout}\n--- stderr\n${proc.stderr}`);
  if (command.startsWith('npx tsx') && comment) {
    // The comment is what it prints (up to a comma that starts a remark).
    assert.equal(proc.stdout.split('\n')[0], comment.split(', ')[0], `${command}: the README says it prints "${comment}"`);
  }
  return proc.stdout;
}

/** Follows a section's blocks in order. */
export async function follow(section: Block[]): Promise<void> {
  for (const block of section) {
    const target = /^\/\/ (in )?(\S+)$/.exec(block.lines[0] ?? '');
    if (block.lang === 'bash') {
      for (const line of block.lines) await run(line);
    } else if (target?.[1]) {
      // "// in cfg.config.ts": each line replaces the one line of that file with the same key.
      let text = await readFile(project.path(target[2]!), 'utf8');
      for (const line of block.lines.slice(1)) {
        const key = line.trim().split(':')[0]!;
        const at = text.split('\n').filter((l) => l.trim().startsWith(`${key}:`));
        assert.equal(at.length, 1, `${target[2]} has one "${key}:" line to change`);
        text = text.replace(at[0]!, line);
      }
      await writeFile(project.path(target[2]!), text);
    } else if (target) {
      await mkdir(dirname(project.path(target[2]!)), { recursive: true });
      await writeFile(project.path(target[2]!), `${block.lines.slice(1).join('\n')}\n`);
    }
  }
}
