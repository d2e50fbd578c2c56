import { resolve } from 'node:path';
import { Command } from 'commander';
import kleur from 'kleur';
import type { Finding } from '../proto/findings.ts';
import type { ProtoProject } from '../proto/lint.ts';

interface ProtoDirOption {
  protoDir?: string;
}

/** The project's protos: --proto-dir (relative to where cfg runs), else grpc.proto.protoDir. */
async function project(opts: ProtoDirOption): Promise<ProtoProject> {
  const { loadConfig } = await import('../config/load.ts');
  const config = await loadConfig();
  const cwd = process.cwd();
  return {
    root: config.root,
    protoDir: opts.protoDir !== undefined ? resolve(cwd, opts.protoDir) : resolve(config.root, config.grpc.proto.protoDir),
    shownFrom: cwd,
  };
}

/** Prints each finding (file:line:column: message (RULE)) and the verdict; a finding makes the exit code 1. */
async function report(findings: Finding[], clean: string, dirty: string): Promise<void> {
  const { formatFinding } = await import('../proto/findings.ts');
  for (const f of findings) process.stdout.write(`${formatFinding(f)}\n`);
  if (findings.length === 0) {
    process.stdout.write(`${kleur.green('✓')} ${clean}\n`);
    return;
  }
  process.stderr.write(`${kleur.red('✗')} ${dirty}\n`);
  process.exitCode = 1;
}

const protoDirOption = ['--proto-dir <dir>', 'folder holding the .proto files (default: grpc.proto.protoDir, "proto")'] as const;

/** cfg proto lint | format | breaking: buf's checks over the project's .proto files, offline. */
export function protoCommand(): Command {
  const command = new Command('proto').description(
    'Lint, format and check .proto files for breaking changes (buf, offline; rules in buf.yaml)',
  );
  command
    .command('lint')
    .description(
      "buf lint with the project's rules (buf.yaml, else cfg's defaults); file:line:column and the rule per finding, exit 1 on any",
    )
    .option(...protoDirOption)
    .action(async (opts: ProtoDirOption) => {
      const { lintProto } = await import('../proto/lint.ts');
      const r = await lintProto(await project(opts));
      const n = r.findings.length;
      await report(
        r.findings,
        `${r.shown}: ${r.files} file(s) clean under ${r.rules}`,
        `${n} lint finding(s) in ${r.shown} under ${r.rules}`,
      );
    });
  command
    .command('format')
    .description('buf format: rewrite the .proto files in place; with --check, only show what differs (exit 1 and a diff)')
    .option('--check', 'change nothing: list each file that is not formatted, print the diff, exit 1 if any')
    .option(...protoDirOption)
    .action(async (opts: ProtoDirOption & { check?: boolean }) => {
      const { formatProto } = await import('../proto/format.ts');
      const check = opts.check ?? false;
      const r = await formatProto(await project(opts), { check });
      if (!check) {
        for (const f of r.findings) process.stdout.write(`${kleur.green('formatted')} ${f.path}\n`);
        process.stdout.write(`${kleur.green('✓')} ${r.files} file(s), ${r.findings.length} rewritten\n`);
        return;
      }
      if (r.findings.length > 0) process.stdout.write(r.diff.endsWith('\n') ? r.diff : `${r.diff}\n`);
      await report(
        r.findings,
        `${r.files} file(s) formatted as buf format writes them`,
        `${r.findings.length} file(s) not formatted: run cfg proto format to fix them`,
      );
    });
  command
    .command('breaking')
    .description('buf breaking: compare the .proto files with a git ref; reports changes that break deployed clients (wire or JSON)')
    .option('--against <ref>', 'git branch, tag or commit to compare with (default: origin/main, else the last tag, else main)')
    .option(...protoDirOption)
    .action(async (opts: ProtoDirOption & { against?: string }) => {
      const { breakingProto } = await import('../proto/breaking.ts');
      const r = await breakingProto(await project(opts), opts.against);
      const at = `${r.ref} (${r.commit.slice(0, 12)})`;
      if (r.baseline === 0) {
        process.stdout.write(`${kleur.green('✓')} ${at} has no .proto files in ${r.shown}: nothing to break, every proto is new\n`);
        return;
      }
      const n = r.findings.length;
      await report(
        r.findings,
        `${r.shown}: no breaking change against ${at} under ${r.rules}`,
        `${n} breaking change(s) in ${r.shown} against ${at} under ${r.rules}`,
      );
    });
  return command;
}
