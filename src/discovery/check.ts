import kleur from 'kleur';
import { loadConfig } from '../config/load.ts';
import type { CfgConfig } from '../config/types.ts';
import { isCfgError } from '../errors.ts';
import { join } from 'node:path';
import { appsNotEnabled, discover, discoverApp } from './discover.ts';
import { DESCRIPTOR_SET } from '../proto/tools.ts';
import { existsSync } from 'node:fs';

function say(line: string): void {
  process.stdout.write(line + '\n');
}

/** Prints per app what discovery found or which troubleshooting condition failed. True when all is well. */
export async function runCheck(config?: CfgConfig): Promise<boolean> {
  const cfg = config ?? (await loadConfig());
  let ok = true;
  const fail = (what: string, err: unknown) => {
    ok = false;
    if (isCfgError(err)) {
      say(`${kleur.red('✗')} ${what}: ${kleur.dim(err.code)} ${err.message}`);
      if (err.hint) say(`    ${kleur.yellow('hint')} ${err.hint}`);
    } else say(`${kleur.red('✗')} ${what}: ${(err as Error).message}`);
  };
  say(`${kleur.bold('cfg check')} ${cfg.root}`);
  if (!existsSync(join(cfg.root, cfg.grpc.proto.outputDir, DESCRIPTOR_SET))) {
    ok = false;
    say(`${kleur.red('✗')} stubs: ${cfg.grpc.proto.outputDir}/${DESCRIPTOR_SET} is missing. ${kleur.yellow('hint')} run cfg generate-proto`);
  }
  if (cfg.grpc.autoRegisterApps) {
    if (cfg.grpc.enabledApps.length === 0) say(`${kleur.yellow('!')} grpc.enabledApps is empty: no app is scanned`);
    for (const label of cfg.grpc.enabledApps) {
      try {
        const found = await discoverApp(cfg, label);
        say(`${kleur.green('✓')} ${label}: ${found[0]?.source ?? ''} -> ${found.map((f) => f.registration[0].name).join(', ') || 'no services'}`);
      } catch (err) {
        fail(label, err);
      }
    }
  }
  for (const label of appsNotEnabled(cfg)) {
    say(`${kleur.yellow('!')} apps/${label} has a gRPC service module but "${label}" is not in grpc.enabledApps, so it is not served`);
  }
  try {
    const d = await discover({ ...cfg, grpc: { ...cfg.grpc, autoRegisterApps: false } });
    for (const s of d.services) say(`${kleur.green('✓')} customServices.${s.app}: ${s.source} -> ${s.registration[0].name}`);
    for (const h of d.hooks) say(`${kleur.green('✓')} handlersHook: ${h.source}`);
  } catch (err) {
    fail('custom registration', err);
  }
  say(ok ? kleur.green('no problems found') : kleur.red('problems found (see above)'));
  return ok;
}
