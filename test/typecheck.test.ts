// A service class is typed from the generated definition: one that misnames an RPC, takes or
// returns the wrong message, or implements a streaming RPC as unary does not compile. Proven by
// running tsc over a fixture project (the good fixture apps must compile cleanly).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeProject, REPO, type Project } from './fixtures/project.ts';

let project: Project | undefined;
after(() => project?.remove());

function tsc(root: string): Promise<string> {
  const bin = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, '-p', join(root, 'tsconfig.json'), '--pretty', 'false'],
      { cwd: root, timeout: 110_000, maxBuffer: 8 << 20 },
      (_err, stdout) => resolve(stdout),
    );
  });
}

test('tsc accepts the fixture apps and writer-style streams, and rejects misnamed or mistyped RPCs', async () => {
  const dir = join(REPO, 'test', 'fixtures', 'typecheck');
  const files: Record<string, string> = {};
  for (const name of await readdir(dir)) files[`typecheck/${name}`] = await readFile(join(dir, name), 'utf8');
  files['tsconfig.json'] = JSON.stringify({ extends: join(REPO, 'tsconfig.json'), include: ['apps', 'api', 'typecheck'], exclude: [] });
  project = await makeProject({ apps: ['greeter', 'multi'], api: true, files });

  const output = await tsc(project.root);
  // tsc names files relative to its cwd, the project. Only the project's own files count (src/
  // is checked by the repository's own tsc run).
  const errors: string[] = [];
  let own = false;
  for (const line of output.split('\n')) {
    if (/^\s/.test(line)) {
      if (own) errors[errors.length - 1] += `\n${line}`; // an error's continuation lines
      continue;
    }
    own = /^[\w-]+\//.test(line);
    if (own) errors.push(line);
  }
  const inFile = (file: string) => errors.filter((e) => e.startsWith(`${file}(`));

  assert.deepEqual(
    errors.filter((e) => !e.startsWith('typecheck/') || e.startsWith('typecheck/writer-ok.ts')),
    [],
    'the fixture apps and the writer-style class compile',
  );
  assert.match(
    inFile('typecheck/misnamed.ts').join('\n'),
    /error TS2420: Class 'Misnamed' incorrectly implements .*\n?.*Property 'sayHello' is missing/,
  );
  assert.match(
    inFile('typecheck/mistyped-response.ts').join('\n'),
    /error TS2416: Property 'sayHello' in type 'WrongResponse' is not assignable/,
  );
  assert.match(
    inFile('typecheck/mistyped-request.ts').join('\n'),
    /error TS2416: Property 'sayHello' in type 'WrongRequest' is not assignable/,
  );
  assert.match(inFile('typecheck/wrong-kind.ts').join('\n'), /error TS2416: Property 'countUp' in type 'WrongKind' is not assignable/);
  assert.match(inFile('typecheck/writer-wrong.ts').join('\n'), /error TS2416: Property 'countUp' in type 'WrongWriter' is not assignable/);
  for (const file of ['misnamed', 'mistyped-response', 'mistyped-request', 'wrong-kind', 'writer-wrong', 'registration']) {
    assert.equal(
      inFile(`typecheck/${file}.ts`).length,
      1,
      `exactly one error in ${file}.ts:\n${inFile(`typecheck/${file}.ts`).join('\n')}`,
    );
  }
  assert.match(inFile('typecheck/registration.ts').join('\n'), /error TS2345: Argument of type 'typeof Farewell' is not assignable/);
});
