// cfg rungrpc warns at start-up when grpc.server.maxConnections (+ grpc.http.maxConnections) does
// not fit under the process's open-file limit: the cap would never apply, and at the limit
// accepting fails for every client. Under `ulimit -n 1000` with the default cap (5000) it warns
// and names the room there is; with a cap that fits, it does not.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { openFileLimit } from '../src/transports/grpc/fd-limit.ts';
import { CfgProcess, projectsOfThisFile } from './fixtures/project.ts';

const CLI = new URL('../bin/cfg.js', import.meta.url).pathname;
const project = projectsOfThisFile();
const running: CfgProcess[] = [];
after(async () => {
  for (const p of running) await p.stop();
});

/** `cfg rungrpc` in the project under `ulimit -n <limit>` (soft and hard). */
function rungrpcUnderLimit(root: string, limit: number): CfgProcess {
  const child = spawn('sh', ['-c', `ulimit -n ${limit} && exec "$0" "$1" rungrpc`, process.execPath, CLI], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', CFG_GRPC_PORT: '', CFG_LOG_FORMAT: 'json', CFG_LOG_LEVEL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new CfgProcess(child);
  running.push(proc);
  return proc;
}

const warning = (stderr: string) => stderr.split('\n').filter((l) => l.includes('open-file limit'));

test('this process: openFileLimit() is the limit the shell reports', () => {
  assert.equal(openFileLimit(), Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()));
});

test('default cap 5000 under ulimit -n 1000: one warning naming the limit and the room; a cap of 500 fits: none', async () => {
  const tight = await project({ apps: ['greeter'] });
  const warned = rungrpcUnderLimit(tight.root, 1000);
  await warned.port();
  await warned.waitFor('stderr', /open-file limit/);
  const lines = warning(warned.stderr);
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(
    JSON.parse(lines[0]!).msg,
    /grpc\.server\.maxConnections \(5000\) does not fit under this process's open-file limit \(1000, ulimit -n\).*Lower maxConnections to 744 or less/,
  );

  const fits = await project({ apps: ['greeter'], config: { grpc: { server: { maxConnections: 500 } } } });
  const quiet = rungrpcUnderLimit(fits.root, 1000);
  await quiet.port();
  await new Promise((resolve) => setTimeout(resolve, 300)); // the line would follow the bind at once
  assert.deepEqual(warning(quiet.stderr), []);
});
