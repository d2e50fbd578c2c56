// makemigrations diffs prisma/schema.prisma against the schema kept beside the last migration.
// Two branches that each add a migration merge into a history whose last snapshot misses the
// other branch's models: the next makemigrations would then write SQL for changes already applied.
// This catches that drift (it happened once, when the events and trades migrations met).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { schemaFor } from '../src/db/generate.ts';
import { lastSnapshot } from '../src/db/migrations.ts';

const root = resolve(import.meta.dirname, '..');

for (const provider of ['sqlite', 'postgresql'] as const) {
  test(`${provider}: the last migration's schema snapshot is prisma/schema.prisma (no change waits for a migration)`, () => {
    const schema = readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8');
    const snapshot = lastSnapshot(root, provider);
    assert.ok(snapshot !== null, `no migration for ${provider}`);
    assert.equal(
      snapshot,
      schemaFor(schema, provider, `../generated/prisma/${provider}`),
      "run cfg makemigrations: prisma/schema.prisma differs from the last migration's snapshot",
    );
  });
}
