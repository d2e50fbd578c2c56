import { execFile } from 'node:child_process';
import { CfgError } from '../errors.ts';
import { bufCommand } from './tools.ts';

/** What one buf run printed, and how it exited. */
export interface BufRun {
  /** buf's exit code: 0 clean, 100 findings (lint, breaking, format --exit-code), other: buf failed. */
  code: number;
  stdout: string;
  stderr: string;
}

/** buf's exit code for "ran fine and found something" (file annotations, a format diff). */
export const BUF_FINDINGS = 100;

/** Bound on one buf run; a healthy one takes well under a second. */
const BUF_TIMEOUT_MS = 120_000;

/**
 * Runs the buf of @bufbuild/buf with `args` in `cwd` and resolves to its exit code and output,
 * whatever the code. Fails (E_BUF) only when buf itself cannot run: missing binary, no
 * permission to execute it, or no answer within the bound.
 */
export function runBuf(args: string[], cwd: string): Promise<BufRun> {
  let command: { file: string; args: string[] };
  try {
    command = bufCommand();
  } catch (err) {
    throw new CfgError(
      'E_BUF',
      `buf is not installed: ${(err as Error).message.split('\n')[0]}`,
      'Run npm install (buf ships in the @bufbuild/buf package).',
      { cause: err },
    );
  }
  return new Promise((done, fail) => {
    execFile(
      command.file,
      [...command.args, ...args],
      { cwd, maxBuffer: 64 * 1024 * 1024, timeout: BUF_TIMEOUT_MS },
      (err, stdout, stderr) => {
        if (!err) return done({ code: 0, stdout, stderr });
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'number') return done({ code, stdout, stderr });
        if ((err as { killed?: boolean }).killed) {
          return fail(
            new CfgError(
              'E_BUF',
              `buf did not finish within ${BUF_TIMEOUT_MS / 1000} s (buf ${args[0]}).`,
              'Try again; if it keeps hanging, run the same command with BUF_DEBUG=1 to see where.',
              { cause: err },
            ),
          );
        }
        fail(
          new CfgError(
            'E_BUF',
            `buf could not run (${String(code ?? err.message)}: ${command.file}).`,
            'Run npm install again: @bufbuild/buf installs the buf binary for this platform.',
            { cause: err },
          ),
        );
      },
    );
  });
}

/** buf's own failure (a bad buf.yaml, an input it cannot read) as one line: its last "Failure:" line. */
export function bufFailure(run: BufRun): string {
  const lines = `${run.stderr}\n${run.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const failure = lines.findLast((l) => l.startsWith('Failure:')) ?? lines.at(-1) ?? `exit code ${run.code}`;
  return failure.replace(/^Failure:\s*/, '');
}
