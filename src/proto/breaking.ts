import { resolve } from 'node:path';
import { bufTarget } from './buf-config.ts';
import { runBuf } from './buf-run.ts';
import { parseFindings, type Finding } from './findings.ts';
import { requireProtoFiles } from './generate.ts';
import { defaultRef, exportProtoDir, gitTopLevel, resolveCommit } from './git-ref.ts';
import { shownDir, type ProtoProject } from './lint.ts';

export interface BreakingResult {
  findings: Finding[];
  /** The ref compared with, as given or chosen ("origin/main", "HEAD~1", "v1.2.0"). */
  ref: string;
  /** The commit it names. */
  commit: string;
  /** .proto files in the proto dir at that commit (0: nothing to compare, every proto is new). */
  baseline: number;
  /** .proto files now. */
  files: number;
  /** "buf.yaml" or "cfg's default rules". */
  rules: string;
  shown: string;
}

/**
 * `buf breaking` of the proto dir as it is now (work tree, uncommitted edits included) against
 * the same dir at a git ref, offline: the ref's protos are read from git's objects into a
 * temporary folder. Without a ref, the upstream main or the last tag (see defaultRef).
 */
export async function breakingProto(project: ProtoProject, ref?: string): Promise<BreakingResult> {
  const protoDir = resolve(project.root, project.protoDir);
  const shown = shownDir(project);
  const files = await requireProtoFiles(protoDir, shown);
  const top = await gitTopLevel(project.root);
  const against = ref ?? (await defaultRef(top));
  const commit = await resolveCommit(top, against);
  const target = bufTarget(project.root, protoDir);
  const base = { ref: against, commit, files: files.length, rules: target.rules, shown };
  const previous = await exportProtoDir(top, commit, protoDir);
  try {
    if (previous.files === 0) return { ...base, findings: [], baseline: 0 };
    const run = await runBuf(
      ['breaking', target.input, '--against', previous.dir, ...target.configArgs, '--error-format', 'json'],
      target.cwd,
    );
    const findings = parseFindings(run, {
      bufCwd: target.cwd,
      shownFrom: project.shownFrom ?? process.cwd(),
      input: target.input,
      command: 'buf breaking',
    });
    return { ...base, findings, baseline: previous.files };
  } finally {
    await previous.remove();
  }
}
