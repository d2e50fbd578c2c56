import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { CfgError } from '../errors.ts';

interface GitRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs git in `cwd`; resolves whatever it exits with, fails (E_GIT) only when git cannot run. */
function git(args: string[], cwd: string): Promise<GitRun> {
  return new Promise((done, fail) => {
    execFile('git', args, { cwd, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (!err) return done({ code: 0, stdout, stderr: stderr.toString() });
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number') return done({ code, stdout, stderr: stderr.toString() });
      const what = code === 'ENOENT' ? 'git is not installed (no git on PATH)' : `git could not run (${String(code ?? err.message)})`;
      fail(
        new CfgError(
          'E_GIT',
          `${what}: cfg proto breaking reads the earlier protos from git.`,
          "Install git (apt-get install git, or your platform's package), then run it again.",
          { cause: err },
        ),
      );
    });
  });
}

const text = (run: GitRun) => run.stdout.toString('utf8').trim();

/** The root of the git work tree holding `dir`; E_GIT when there is none. */
export async function gitTopLevel(dir: string): Promise<string> {
  const run = await git(['rev-parse', '--show-toplevel'], dir);
  if (run.code !== 0) {
    throw new CfgError(
      'E_GIT',
      `${dir} is not inside a git repository, so there is no earlier version to compare with.`,
      'Run cfg proto breaking in a git clone of the project (git init and a first commit make one).',
    );
  }
  return text(run);
}

/** The commit `ref` names (branch, tag, commit, HEAD~1); E_GIT when it names none. */
export async function resolveCommit(top: string, ref: string): Promise<string> {
  const run = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], top);
  if (run.code !== 0) {
    throw new CfgError(
      'E_GIT',
      `git ref "${ref}" names no commit in ${top}.`,
      'Pass --against a branch, tag or commit that exists here (git log --oneline lists commits; a shallow clone needs git fetch --deepen=1 for HEAD~1).',
    );
  }
  return text(run);
}

/**
 * The ref to compare with when none is given: the upstream main (origin's default branch,
 * origin/main, origin/master), else the last tag reachable from HEAD, else a local main or master.
 */
export async function defaultRef(top: string): Promise<string> {
  const originHead = await git(['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'], top);
  if (originHead.code === 0 && text(originHead)) return text(originHead);
  for (const ref of ['origin/main', 'origin/master']) {
    if ((await git(['rev-parse', '--verify', '--quiet', `refs/remotes/${ref}`], top)).code === 0) return ref;
  }
  const tag = await git(['describe', '--tags', '--abbrev=0'], top);
  if (tag.code === 0 && text(tag)) return text(tag);
  for (const ref of ['main', 'master']) {
    if ((await git(['rev-parse', '--verify', '--quiet', `refs/heads/${ref}`], top)).code === 0) return ref;
  }
  throw new CfgError(
    'E_GIT',
    'No ref to compare with: no origin/main, no tag, no main or master branch.',
    'Pass one: cfg proto breaking --against REF (a branch, tag or commit, e.g. HEAD~1).',
  );
}

export interface ExportedProtos {
  /** A temporary folder holding the proto dir as it was at the commit. */
  dir: string;
  /** The .proto files it holds. */
  files: number;
  remove(): Promise<void>;
}

/**
 * Writes the .proto files that `protoDir` held at `commit` into a temporary folder (same layout,
 * so imports resolve as they did). Reads git's objects only: offline, any work tree state.
 */
export async function exportProtoDir(top: string, commit: string, protoDir: string): Promise<ExportedProtos> {
  const sub = relative(await realpath(top), await realpath(protoDir))
    .split(sep)
    .join('/');
  if (sub.startsWith('..') || isAbsolute(sub)) {
    throw new CfgError(
      'E_GIT',
      `${protoDir} is outside the git repository at ${top}.`,
      'Keep the proto dir inside the repository, or run cfg from the repository that holds it.',
    );
  }
  const listed = await git(['ls-tree', '-r', '-z', '--full-tree', commit, '--', sub === '' ? '.' : sub], top);
  if (listed.code !== 0)
    throw new CfgError(
      'E_GIT',
      `git ls-tree ${commit} failed: ${listed.stderr.trim()}`,
      'Check that the repository is readable (git status), then run it again.',
    );
  const dir = await mkdtemp(join(tmpdir(), 'cfg-against-'));
  let files = 0;
  try {
    for (const entry of listed.stdout.toString('utf8').split('\0')) {
      const match = /^\d+ blob ([0-9a-f]+)\t(.+)$/.exec(entry);
      if (!match || !match[2]!.endsWith('.proto')) continue;
      const blob = await git(['cat-file', 'blob', match[1]!], top);
      if (blob.code !== 0)
        throw new CfgError(
          'E_GIT',
          `git cat-file ${match[1]} (${match[2]}) failed: ${blob.stderr.trim()}`,
          'Check that the repository is complete (git fsck), then run it again.',
        );
      const to = join(dir, sub === '' ? match[2]! : match[2]!.slice(sub.length + 1));
      await mkdir(dirname(to), { recursive: true });
      await writeFile(to, blob.stdout);
      files++;
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, files, remove: () => rm(dir, { recursive: true, force: true }) };
}
