// The newcomer's path, from README.md alone: `cfg startapp notes`, the one edit README shows in
// the service class, and `cfg rungrpc` answers the RPC. The edit is read from README.md, so the
// README and what startapp writes cannot drift apart unnoticed.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, REPO, type Project } from './fixtures/project.ts';
import { freshProject } from './support/startapp-project.ts';

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

test('README flow: startapp notes, the one edit README shows in the service class, and rungrpc answers it', async () => {
  const p = await freshProject(projects);
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  assert.match(readme, /^npx cfg startapp notes {3}# /m, 'README.md shows the command');
  const r = await p.run(['startapp', 'notes']);
  assert.equal(r.code, 0, r.stderr);

  // The line README.md says replaces the abortUnimplemented line of get().
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
