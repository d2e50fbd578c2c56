import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfgError } from '../errors.ts';
import type { Provider } from './url.ts';

const require = createRequire(import.meta.url);
export const PROVIDERS: readonly Provider[] = ['sqlite', 'postgresql'];

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
              env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1', PRISMA_GENERATE_SKIP_AUTOINSTALL: '1' },
            },
            (err, _out, stderr) =>
              err ? reject(new CfgError('E_DB', `prisma generate (${provider}) failed: ${stderr || err.message}`, 'Fix prisma/schema.prisma.')) : resolve(),
          );
        });
      }),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
