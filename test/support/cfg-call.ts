// The real `cfg` run as a gRPC client (cfg call, list, describe) from any folder, with stdin the
// test writes to: the process is spawned, never imported.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CfgProcess, REPO, type RunResult } from '../fixtures/project.ts';

/** A `cfg` child in `cwd`, stdin open for the test (end it, or it is ended at once with `input`). */
export function spawnCfg(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CfgProcess {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'cfg.js'), ...args], {
    cwd: options.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  return new CfgProcess(child);
}

/** Runs `cfg <args>` to completion (killed after 60 s); stdin is `input`, or empty. */
export async function runCfg(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  const proc = spawnCfg(args, { ...options, input: options.input ?? '' });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** The replies of a --compact run, one JSON per line. */
export function replies(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
