// What `cfg startapp` writes compiles: the service classes implement the generated definitions
// (a missing or mistyped RPC would not), the handlers modules and the tests type-check under the
// repository's strict settings, for each RPC kind alone and for all four in one app.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startApp } from '../src/commands/startapp/create-app.ts';
import { REPO, type Project } from './fixtures/project.ts';
import { freshProject, runProgram, startSingleKindApps } from './support/startapp-project.ts';

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

test('tsc --noEmit accepts every app startapp writes: one per RPC kind, and one with all four', async () => {
  const p = await freshProject(projects);
  await startSingleKindApps(p);
  await startApp({ name: 'notes', rpcs: ['unary', 'server-stream', 'client-stream', 'bidi'], cwd: p.root });
  await writeFile(
    p.path('tsconfig.json'),
    JSON.stringify({ extends: join(REPO, 'tsconfig.json'), include: ['apps', 'test', 'generated', 'cfg.config.ts'], exclude: [] }),
  );
  const tsc = await runProgram(
    process.execPath,
    [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', p.path('tsconfig.json'), '--pretty', 'false'],
    p.root,
  );
  assert.equal(tsc.code, 0, tsc.out);
  assert.equal(tsc.out, '');
});
