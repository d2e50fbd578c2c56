import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import type { Db } from './client.ts';

/** What an app's seed module exports: `export async function seed(db: Db)`, idempotent (upserts). */
export type SeedFn = (db: Db) => Promise<void> | void;

/** Runs apps/<label>/seed.ts of every enabled app, in enabledApps order. Returns the labels seeded. */
export async function runSeeds(config: CfgConfig, db: Db): Promise<string[]> {
  const done: string[] = [];
  for (const label of config.grpc.enabledApps) {
    const file = join(config.root, 'apps', label, 'seed.ts');
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { seed?: unknown };
    if (typeof mod.seed !== 'function') throw new CfgError('E_DB', `apps/${label}/seed.ts has no exported seed(db) function.`, 'Export: export async function seed(db) { ... }');
    try {
      await (mod.seed as SeedFn)(db);
    } catch (err) {
      throw new CfgError('E_DB', `apps/${label}/seed.ts failed: ${(err as Error).message}`, 'Run cfg migrate first; seeds must be idempotent.', { cause: err });
    }
    done.push(label);
  }
  return done;
}
