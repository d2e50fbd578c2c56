import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CfgConfig } from '../config/types.ts';
import { isCfgError } from '../errors.ts';

/** The part of `cfg check`'s report this step uses. */
export interface LintReport {
  good(what: string, text: string): void;
  warn(what: string, text: string): void;
}

/** More findings than this are summed up in one line (cfg proto lint lists them all). */
const SHOWN = 20;

/**
 * `cfg check`'s lint step: buf lint over the protos with the project's rules. Each finding is a
 * warning (file:line:column: message (RULE)), never a failure: a server with lint findings
 * still serves. Files buf cannot compile, and buf not running, are left to the stubs step.
 */
export async function checkProtoLint(cfg: CfgConfig, report: LintReport): Promise<void> {
  const { protoDir } = cfg.grpc.proto;
  if (!existsSync(join(cfg.root, protoDir))) return;
  const { lintProto } = await import('../proto/lint.ts');
  const { formatFinding } = await import('../proto/findings.ts');
  let result: Awaited<ReturnType<typeof lintProto>>;
  try {
    result = await lintProto({ root: cfg.root, protoDir, shownFrom: cfg.root });
  } catch (err) {
    if (isCfgError(err) && err.code === 'E_PROTO_DIR') return; // no .proto files: the stubs step says so
    report.warn('lint', `not run: ${isCfgError(err) ? `${err.code} ${err.message.split('\n')[0]}` : String(err)}`);
    return;
  }
  const findings = result.findings.filter((f) => f.rule !== 'COMPILE');
  if (findings.length < result.findings.length) {
    report.warn('lint', `not run: ${result.shown} does not compile (cfg generate-proto shows where)`);
    return;
  }
  if (findings.length === 0) {
    report.good('lint', `${result.shown} clean under ${result.rules} (${result.files} file(s))`);
    return;
  }
  for (const f of findings.slice(0, SHOWN)) report.warn('lint', formatFinding(f));
  if (findings.length > SHOWN) report.warn('lint', `${findings.length - SHOWN} more finding(s): cfg proto lint lists them all`);
}
