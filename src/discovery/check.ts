import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import kleur from 'kleur';
import { loadConfig } from '../config/load.ts';
import type { CfgConfig } from '../config/types.ts';
import { checkDatabase } from '../check/database.ts';
import { checkProtos } from '../check/protos.ts';
import { checkTypes } from '../check/types.ts';
import type { Report } from '../check/report.ts';
import { isCfgError } from '../errors.ts';
import { DESCRIPTOR_SET } from '../proto/tools.ts';
import { checkProtoLint } from './check-lint.ts';
import { appsNotEnabled, describeRegistration, discover, discoverApp, type DiscoveredService } from './discover.ts';
import { probeApp, serviceNameOf } from './modules.ts';

/**
 * `cfg check`: loads the config and runs discovery without serving. Prints one line per app
 * (what was found, or which of the guide's troubleshooting conditions failed, with its E_ code
 * and a hint), then customServices, the handlersHook and the stubs. True when nothing failed.
 */
export async function runCheck(config?: CfgConfig): Promise<boolean> {
  const cfg = config ?? (await loadConfig());
  const g = cfg.grpc;
  let problems = 0;
  let warnings = 0;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const good = (what: string, text: string) => say(`${kleur.green('✓')} ${what}: ${text}`);
  const warn = (what: string, text: string) => {
    warnings++;
    say(`${kleur.yellow('!')} ${what}: ${text}`);
  };
  const fail = (what: string, err: unknown) => {
    problems++;
    if (isCfgError(err)) {
      say(`${kleur.red('✗')} ${what}: ${kleur.dim(err.code)} ${err.message.replace(/\n/g, '\n    ')}`);
      if (err.hint) say(`    ${kleur.yellow('hint')} ${err.hint}`);
    } else say(`${kleur.red('✗')} ${what}: ${err instanceof Error ? err.message : String(err)}`);
  };

  say(`${kleur.bold('cfg check')} ${cfg.root}`);
  say(`  grpc ${g.enabled ? 'enabled' : 'disabled'}, autoRegisterApps ${g.autoRegisterApps}, enabledApps [${g.enabledApps.join(', ')}]`);
  if (!g.enabled) fail('grpc', 'grpc.enabled is false in cfg.config.ts: rungrpc refuses to start');
  const report: Report = { good, warn, fail };
  await checkProtos(cfg, report);
  await checkStubs(cfg, report);
  await checkDatabase(cfg, report);
  await checkProtoLint(cfg, report);

  const found: DiscoveredService[] = [];
  if (g.autoRegisterApps) {
    if (g.enabledApps.length === 0) warn('enabledApps', 'grpc.enabledApps is empty: no app is scanned');
    for (const label of g.enabledApps) {
      try {
        const services = await discoverApp(cfg, label);
        found.push(...services);
        if (services.length === 0) warn(`app ${label}`, 'grpcHandlers returned an empty list: nothing to serve');
        else good(`app ${label}`, `${services[0]!.source} -> ${services.map((s) => describeRegistration(s.registration)).join(', ')}`);
      } catch (err) {
        fail(`app ${label}`, err);
      }
    }
    for (const label of appsNotEnabled(cfg)) {
      warn(`app ${label}`, `apps/${label} has a gRPC service module but "${label}" is not in grpc.enabledApps, so it is not served`);
    }
  }
  try {
    const d = await discover(cfg, { apps: false });
    for (const s of d.services) good(`customServices.${s.app}`, `${s.source} -> ${describeRegistration(s.registration)}`);
    for (const h of d.hooks) good('handlersHook', `${h.source} (called with the server at start-up)`);
    found.push(...d.services);
    if (found.length === 0 && d.hooks.length === 0 && problems === 0) {
      fail('services', 'nothing to serve: enabledApps, customServices and handlersHook found no service (rungrpc refuses to start)');
    }
  } catch (err) {
    fail('custom registration', err);
  }

  const seen = new Map<string, DiscoveredService>();
  for (const s of found) {
    const [cls, add] = s.registration;
    const name = serviceNameOf(add.definition) ?? cls.name;
    const first = seen.get(name);
    if (first) fail(name, `registered twice (by ${first.source} and ${s.source}); rungrpc refuses to start`);
    seen.set(name, s);
    for (const [key, def] of Object.entries(add.definition ?? {})) {
      if (typeof (cls.prototype as Record<string, unknown>)[key] !== 'function') {
        warn(name, `${cls.name} has no method ${key}(): calls to ${def.path} answer UNIMPLEMENTED`);
      }
    }
  }

  // Every enabled app's service module (discovered or not), and the custom ones.
  const modules = g.enabledApps
    .map((label) => probeApp(join(cfg.root, 'apps', label)).find((p) => p.file)?.file)
    .filter((f): f is string => Boolean(f));
  // Without stubs every service fails to type-check for that one reason, already said above.
  if (existsSync(join(cfg.root, cfg.grpc.proto.outputDir, DESCRIPTOR_SET))) {
    await checkTypes(cfg, [...modules.map((f) => relative(cfg.root, f)), ...found.map((s) => s.source)], report);
  }

  const summary = `${seen.size} service(s); ${problems} problem(s), ${warnings} warning(s)`;
  say(problems === 0 ? kleur.green(`no problems found: ${summary}`) : kleur.red(`problems found: ${summary}`));
  return problems === 0;
}

/** The guide's "Import errors" item: are the stubs generated, and newer than the protos? */
async function checkStubs(cfg: CfgConfig, report: Report): Promise<void> {
  const { protoDir, outputDir, autoGenerate } = cfg.grpc.proto;
  const protoPath = join(cfg.root, protoDir);
  const outPath = join(cfg.root, outputDir);
  const auto = autoGenerate ? ' (rungrpc will, as proto.autoGenerate is on)' : '';
  if (!existsSync(join(outPath, DESCRIPTOR_SET))) {
    report.fail('stubs', `${outputDir}/${DESCRIPTOR_SET} is missing: stubs not generated. Run cfg generate-proto${auto}`);
    return;
  }
  if (!existsSync(protoPath)) {
    report.warn('stubs', `${protoDir}/ does not exist: cannot tell whether ${outputDir}/ is up to date`);
    return;
  }
  const { stubsAreStale } = await import('../proto/generate.ts');
  if (await stubsAreStale(protoPath, outPath, cfg.grpc.proto.es))
    report.warn('stubs', `${outputDir}/ is older than ${protoDir}/: run cfg generate-proto${auto}`);
  else report.good('stubs', `${outputDir}/ is up to date with ${protoDir}/`);
}
