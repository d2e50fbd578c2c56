// `npx cfg ...` as a newcomer types it. npx runs the project's node_modules/.bin/cfg and installs
// nothing into npm's cache; and a SIGTERM to the npx process (what `kill %1`, a CI runner or
// `docker stop` sends) stops the server behind it, although npm forwards it only to its `sh -c`:
// the server notices it lost its parent, drains, and exits 0; with --reload the supervisor and its
// child stop, with --processes 2 the primary and its workers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { CfgProcess, makeProject, REPO, tempDir, type Project } from './fixtures/project.ts';

let project: Project;
let npmCache: string;
const started: CfgProcess[] = [];
const pids: number[] = [];

before(async () => {
  project = await makeProject({ apps: ['greeter'] });
  // A cache of its own: what npx would copy into it is seen, and the user's cache is left alone.
  npmCache = await tempDir('cfg-npm-cache-');
});
after(async () => {
  for (const p of started) await p.stop();
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  await project?.remove();
});

/** `npx cfg <args>` in `cwd`, with pipes, as a shell would start it. */
function npx(cwd: string, args: string[]): CfgProcess {
  const child = spawn('npx', ['cfg', ...args], {
    cwd,
    env: {
      ...process.env,
      npm_config_cache: npmCache,
      npm_config_update_notifier: 'false',
      NO_COLOR: '1',
      CFG_GRPC_PORT: '',
      CFG_LOG_FORMAT: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new CfgProcess(child);
  started.push(proc);
  return proc;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const parentOf = (pid: number) =>
  Number(
    readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ')[1],
  );

/** Waits (30 s at most) until none of `pids` runs; returns those still running. */
async function survivors(pids: number[]): Promise<number[]> {
  for (let i = 0; i < 300 && pids.some(alive); i++) await sleep(100);
  return pids.filter(alive);
}

test('npx cfg runs node_modules/.bin/cfg of this repository and writes nothing into the npx cache', async () => {
  const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const proc = npx(REPO, ['--version']);
  const { code } = await proc.exited;
  assert.equal(code, 0, proc.stderr);
  assert.equal(proc.stdout, `${version}\n`);
  assert.ok(!existsSync(join(npmCache, '_npx')), `npx installed something into its cache: ${join(npmCache, '_npx')}`);
});

for (const extra of [[], ['--reload'], ['--processes', '2']]) {
  test(`SIGTERM to npx: npx cfg rungrpc ${extra.join(' ')} drains and stops every process`, {
    skip: existsSync('/proc/self/stat') ? false : 'needs /proc',
  }, async () => {
    const proc = npx(project.root, ['rungrpc', ...extra]);
    await proc.port();
    const server = Number(/\(pid (\d+)\)/.exec(proc.stdout)![1]);
    // The process tree: npx -> sh -c -> node (the server, or the --reload/--processes parent of it).
    const processes = [server];
    if (extra.length > 0) processes.push(parentOf(server));
    if (extra[0] === '--processes') processes.push(...[...(await proc.waitFor('stdout', /pids ([\d, ]+)\)/))[1]!.split(', ').map(Number)]);
    pids.push(...processes);
    assert.notEqual(parentOf(processes.at(-1)!), proc.child.pid, 'npx runs cfg through a shell');

    process.kill(proc.child.pid!, 'SIGTERM');
    try {
      assert.deepEqual(
        await survivors([...new Set(processes)]),
        [],
        `processes still running 30 s after npx got SIGTERM (server ${server})`,
      );
    } finally {
      for (const pid of processes) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    assert.match(proc.stderr, /parent process gone/);
    // "stopped" is logged just before a clean drain exits 0 (the exit code of a re-parented process cannot be read).
    assert.match(proc.stderr, extra[0] === '--processes' ? /all workers stopped/ : /"msg":"stopped"/);
  });
}
