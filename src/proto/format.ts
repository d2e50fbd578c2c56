import { relative, resolve, sep } from 'node:path';
import { CfgError } from '../errors.ts';
import { bufTarget } from './buf-config.ts';
import { BUF_FINDINGS, bufFailure, runBuf } from './buf-run.ts';
import type { Finding } from './findings.ts';
import { requireProtoFiles } from './generate.ts';
import { shownDir, type ProtoProject } from './lint.ts';

/** The rule name a formatting difference is reported under. */
export const FORMAT_RULE = 'FORMAT';

export interface FormatResult {
  /** One per file that is not as `buf format` writes it: the first line that differs. */
  findings: Finding[];
  /** buf's unified diff (paths relative to the project root). */
  diff: string;
  /** The .proto files looked at. */
  files: number;
  /** True when the files were rewritten (format without --check). */
  written: boolean;
}

/**
 * `buf format` over the project's protos. With `check`, only reports: each file that differs, at
 * its first differing line, and the diff. Without, also rewrites those files in place.
 */
export async function formatProto(project: ProtoProject, options: { check: boolean }): Promise<FormatResult> {
  const protoDir = resolve(project.root, project.protoDir);
  const files = await requireProtoFiles(protoDir, shownDir(project));
  const target = bufTarget(project.root, protoDir);
  const run = await runBuf(['format', target.input, ...target.configArgs, '--diff', '--exit-code'], target.cwd);
  if (run.code !== 0 && run.code !== BUF_FINDINGS) {
    throw new CfgError(
      'E_BUF',
      `buf format failed: ${bufFailure(run)}`,
      'Fix what buf names (a .proto it cannot parse, a bad buf.yaml), then run it again.',
    );
  }
  const shownFrom = project.shownFrom ?? process.cwd();
  const show = (path: string) => relative(shownFrom, resolve(target.cwd, path)).split(sep).join('/');
  const findings = diffFindings(run.stdout).map((f) => ({ ...f, path: show(f.path) }));
  let written = false;
  if (!options.check && findings.length > 0) {
    const write = await runBuf(['format', target.input, ...target.configArgs, '--write'], target.cwd);
    if (write.code !== 0)
      throw new CfgError(
        'E_BUF',
        `buf format --write failed: ${bufFailure(write)}`,
        'Check that the .proto files are writable, then run it again.',
      );
    written = true;
  }
  return { findings, diff: run.stdout, files: files.length, written };
}

/** The first changed line of each file in a unified diff ("+++ proto/x.proto", "@@ -3,4 +3,6 @@"). */
export function diffFindings(diff: string): Finding[] {
  const findings: Finding[] = [];
  let file: string | undefined;
  let line = 0;
  let reported = false;
  for (const text of diff.split('\n')) {
    if (text.startsWith('+++ ')) {
      file = text.slice(4).split('\t')[0]!.trim();
      reported = false;
      continue;
    }
    if (text.startsWith('--- ')) continue;
    const hunk = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(text);
    if (hunk) {
      line = Number(hunk[1]);
      continue;
    }
    if (!file || reported) continue;
    if (text.startsWith('-') || text.startsWith('+')) {
      findings.push({
        path: file,
        line: Math.max(line, 1),
        column: 1,
        rule: FORMAT_RULE,
        message: 'not formatted as buf format writes it',
      });
      reported = true;
    } else if (text.startsWith(' ')) line++;
  }
  return findings;
}
