import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import type { Db } from './client.ts';
import { databaseFailure } from './command-errors.ts';

/** What an app's seed module exports: `export async function seed(db: Db)`, idempotent (upserts). */
export type SeedFn = (db: Db) => Promise<void> | void;

/**
 * Runs apps/<label>/seed.ts of every enabled app, in enabledApps order. Returns the labels seeded.
 * Every seed module is loaded (and its export checked) before `db` is opened.
 */
export async function runSeeds(config: CfgConfig, db: Db | (() => Promise<Db>)): Promise<string[]> {
  const seeds: Array<{ label: string; seed: SeedFn }> = [];
  for (const label of config.grpc.enabledApps) {
    const file = join(config.root, 'apps', label, 'seed.ts');
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { seed?: unknown };
    if (typeof mod.seed !== 'function')
      throw new CfgError(
        'E_DB',
        `apps/${label}/seed.ts has no exported seed(db) function.`,
        'Export: export async function seed(db) { ... }',
      );
    seeds.push({ label, seed: mod.seed as SeedFn });
  }
  if (seeds.length === 0) return [];
  const client = typeof db === 'function' ? await db() : db;
  for (const { label, seed } of seeds) {
    try {
      await seed(client);
    } catch (err) {
      // An unreachable or unmigrated database is said as such by the command (E_DB_...).
      const failure = databaseFailure(err);
      if (failure && failure.kind !== 'other') throw err;
      const why = failure?.reason ?? String((err as Error).message ?? err).split('\n')[0];
      throw new CfgError(
        'E_DB',
        `apps/${label}/seed.ts failed: ${why}`,
        'Fix the seed (it must be idempotent: upserts), then run cfg seed again.',
        { cause: err },
      );
    }
  }
  return seeds.map((s) => s.label);
}
