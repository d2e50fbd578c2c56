import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfgError } from '../errors.ts';
import type { Provider } from './url.ts';

const require = createRequire(import.meta.url);
export const PROVIDERS: readonly Provider[] = ['sqlite', 'postgresql'];
/** Beside the clients: the schema (and prisma version) they were generated from. */
const MARKER = '.schema-sha256';
const prismaVersion = (require('prisma/package.json') as { version: string }).version;

const fingerprint = (schema: string) => createHash('sha256').update(`prisma ${prismaVersion}\n${schema}`).digest('hex');

/**
 * Whether generated/prisma matches prisma/schema.prisma: "missing" (never generated in this
 * project), "stale" (the schema or prisma changed since) or "current".
 */
export async function prismaClientsState(root: string): Promise<'missing' | 'stale' | 'current'> {
  const marker = await readFile(join(root, 'generated', 'prisma', MARKER), 'utf8').catch(() => null);
  const clients = await Promise.all(
    PROVIDERS.map((p) =>
      readFile(join(root, 'generated', 'prisma', p, 'client.ts')).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (!clients.every(Boolean)) return 'missing';
  const schema = await readFile(join(root, 'prisma', 'schema.prisma'), 'utf8');
  return marker?.trim() === fingerprint(schema) ? 'current' : 'stale';
}

/** The schema text for one provider: the datasource provider and the client output swapped. */
export function schemaFor(schema: string, provider: Provider, outputDir: string): string {
  return schema
    .replace(/(datasource\s+db\s*\{[^}]*provider\s*=\s*)"[^"]+"/, `$1"${provider}"`)
    .replace(/(generator\s+client\s*\{[^}]*output\s*=\s*)"[^"]+"/, `$1"${outputDir}"`);
}

/**
 * Generates the Prisma client for each provider into generated/prisma/<provider> from the one
 * prisma/schema.prisma. Works offline: the prisma CLI only needs a schema engine binary path to
 * exist (it is not run by `generate`), so PRISMA_SCHEMA_ENGINE_BINARY points at node itself.
 */
export async function generatePrismaClients(root: string): Promise<void> {
  const schema = await readFile(join(root, 'prisma', 'schema.prisma'), 'utf8');
  const cli = require.resolve('prisma/build/index.js');
  const work = await mkdtemp(join(tmpdir(), 'cfg-prisma-'));
  try {
    await Promise.all(
      PROVIDERS.map(async (provider) => {
        const file = join(work, `${provider}.prisma`);
        await writeFile(file, schemaFor(schema, provider, join(root, 'generated', 'prisma', provider)));
        await new Promise<void>((resolve, reject) => {
          execFile(
            process.execPath,
            [cli, 'generate', '--schema', file],
            {
              cwd: root,
              env: {
                ...process.env,
                PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
                PRISMA_HIDE_UPDATE_MESSAGE: '1',
                CHECKPOINT_DISABLE: '1',
                PRISMA_GENERATE_SKIP_AUTOINSTALL: '1',
              },
            },
            (err, _out, stderr) =>
              err
                ? reject(
                    new CfgError('E_DB', `prisma generate (${provider}) failed: ${stderr || err.message}`, 'Fix prisma/schema.prisma.'),
                  )
                : resolve(),
          );
        });
      }),
    );
    await writeFile(join(root, 'generated', 'prisma', MARKER), `${fingerprint(schema)}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * What makemigrations and migrate run after changing the schema: regenerates the clients when
 * they exist but no longer match prisma/schema.prisma. Returns the line to print, or null when
 * there was nothing to do.
 */
export async function refreshPrismaClients(root: string): Promise<string | null> {
  const state = await prismaClientsState(root);
  if (state === 'current') return null;
  if (state === 'missing') return 'Prisma clients not generated in this project: cfg setup generates them';
  await generatePrismaClients(root);
  return 'regenerated the Prisma clients (generated/prisma/{sqlite,postgresql}) from prisma/schema.prisma';
}
