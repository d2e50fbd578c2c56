import { existsSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { isCfgError } from '../errors.ts';
import { bufTarget } from './buf-config.ts';
import { runBuf } from './buf-run.ts';
import { formatFinding, parseFindings, type Finding } from './findings.ts';
import { requireProtoFiles } from './generate.ts';

/** The protos of one project, as the proto commands see them. */
export interface ProtoProject {
  /** The project root: where cfg.config.ts and buf.yaml are. */
  root: string;
  /** The proto dir (absolute, or relative to `root`). */
  protoDir: string;
  /** Paths in findings are relative to this folder (default: process.cwd()). */
  shownFrom?: string;
}

export interface LintResult {
  findings: Finding[];
  /** The .proto files linted. */
  files: number;
  /** "buf.yaml" or "cfg's default rules". */
  rules: string;
  /** The proto dir as shown ("proto/"). */
  shown: string;
}

/** "proto/" for the proto dir, relative to where findings are shown. */
export function shownDir(project: ProtoProject): string {
  const rel = relative(project.shownFrom ?? process.cwd(), resolve(project.root, project.protoDir))
    .split(sep)
    .join('/');
  return rel === '' ? './' : `${rel}/`;
}

/**
 * `buf lint` over the project's protos with its rule set (buf.yaml, or cfg's defaults). `only`
 * limits the findings to those files (absolute, or relative to the root): a watcher lints the
 * file just saved. A file buf cannot compile is a COMPILE finding.
 */
export async function lintProto(project: ProtoProject, only?: readonly string[]): Promise<LintResult> {
  const protoDir = resolve(project.root, project.protoDir);
  const shown = shownDir(project);
  const files = await requireProtoFiles(protoDir, shown);
  const target = bufTarget(project.root, protoDir);
  const paths = (only ?? []).flatMap((file) => ['--path', relative(target.cwd, resolve(project.root, file)).split(sep).join('/')]);
  const run = await runBuf(['lint', target.input, ...target.configArgs, ...paths, '--error-format', 'json'], target.cwd);
  const findings = parseFindings(run, {
    bufCwd: target.cwd,
    shownFrom: project.shownFrom ?? process.cwd(),
    input: target.input,
    command: 'buf lint',
  });
  return { findings, files: only?.length ?? files.length, rules: target.rules, shown };
}

/**
 * For a watcher: the lint findings of the .proto files just saved, as lines to print
 * ("proto/x.proto:3:1: ... (RULE)"). Removed files are skipped; a lint that cannot run is one
 * line saying why. Never throws: lint findings are advice, the watcher goes on.
 */
export async function lintSaved(project: ProtoProject, files: readonly string[]): Promise<string[]> {
  const dir = resolve(project.root, project.protoDir) + sep;
  const present = files.map((f) => resolve(project.root, f)).filter((f) => f.endsWith('.proto') && f.startsWith(dir) && existsSync(f));
  if (present.length === 0) return [];
  try {
    const { findings } = await lintProto(project, present);
    return findings.filter((f) => f.rule !== 'COMPILE').map(formatFinding);
  } catch (err) {
    return [`not run: ${isCfgError(err) ? `${err.code} ${err.message.split('\n')[0]}` : String(err)}`];
  }
}
