// After a model is added to prisma/schema.prisma, `cfg makemigrations` writes the migration and
// regenerates the Prisma clients (so db.note exists at once, no `cfg setup` needed), saying so;
// `cfg migrate` regenerates them too when the schema changed since (a pulled migration), and is
// quiet when they are current.
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { prismaClientsState } from '../src/db/generate.ts';
import { REPO, type Project } from './fixtures/project.ts';
import { dbProject } from './support/db.ts';

let project: Project | undefined;
after(() => project?.remove());

const NOTE = '\nmodel Note {\n  id   Int    @id @default(autoincrement())\n  text String\n\n  @@map("notes_note")\n}\n';

test('makemigrations and migrate regenerate the Prisma clients when the schema changed, and say so', async () => {
  project = await dbProject();
  const env = { DATABASE_URL: 'file:./var/notes.sqlite3' };
  // The clients as `cfg setup` left them in this repository (regenerated first if they are not current).
  await cp(join(REPO, 'generated', 'prisma'), project.path('generated', 'prisma'), { recursive: true });
  const before = await prismaClientsState(project.root);
  const schemaFile = project.path('prisma', 'schema.prisma');
  await writeFile(schemaFile, (await readFile(schemaFile, 'utf8')) + NOTE);
  assert.equal(await prismaClientsState(project.root), 'stale');

  const made = await project.run(['makemigrations', '--name', 'add_notes'], env);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /^wrote prisma\/migrations\/sqlite\/\d{14}_add_notes\/migration\.sql$/m);
  assert.match(made.stdout, /^regenerated the Prisma clients \(generated\/prisma\/\{sqlite,postgresql\}\) from prisma\/schema\.prisma$/m);
  assert.equal(await prismaClientsState(project.root), 'current');

  const migrated = await project.run(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.match(migrated.stdout, /applied \d{14}_add_notes/);
  assert.doesNotMatch(migrated.stdout, /regenerated/, `the clients were current (they were ${before} before the edit)`);

  // The project's own client has the new model, on the migrated database.
  const { PrismaClient } = (await import(pathToFileURL(project.path('generated', 'prisma', 'sqlite', 'client.ts')).href)) as {
    PrismaClient: new (o: object) => { note: { create(a: object): Promise<{ id: number; text: string }> }; $disconnect(): Promise<void> };
  };
  const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
  const db = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: project.path('var', 'notes.sqlite3') }) });
  try {
    assert.deepEqual(await db.note.create({ data: { text: 'hello' } }), { id: 1, text: 'hello' });
  } finally {
    await db.$disconnect();
  }

  // A schema that changed under the clients (a pulled commit): migrate regenerates them.
  await writeFile(
    schemaFile,
    (await readFile(schemaFile, 'utf8')).replace('  text String\n', '  text String\n  done Boolean @default(false)\n'),
  );
  const pulled = await project.run(['migrate'], env);
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /^regenerated the Prisma clients/m);
  assert.match(await readFile(project.path('generated', 'prisma', 'sqlite', 'models', 'Note.ts'), 'utf8'), /done/);
});
