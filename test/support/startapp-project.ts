// Fresh projects for the `cfg startapp` tests: as a team starts one (package.json, node_modules,
// a cfg.config.ts importing 'cfg-grpc'; no apps, no protos), and the apps the tests make in them.
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { startApp } from '../../src/commands/startapp/create-app.ts';
import type { RpcKind } from '../../src/commands/startapp/names.ts';
import { bareProject, type Project } from '../fixtures/project.ts';

/** One app per RPC kind (each its own proto, class and test). */
export const SINGLE_KIND_APPS: ReadonlyArray<readonly [string, RpcKind]> = [
  ['unary_app', 'unary'],
  ['feed', 'server-stream'],
  ['uploads', 'client-stream'],
  ['chat2', 'bidi'],
];

/** A project with `enabledApps` (TypeScript source) in its cfg.config.ts; removed by `projects` cleanup. */
export async function freshProject(projects: Project[], enabledApps = '[]'): Promise<Project> {
  const p = await bareProject(
    {
      'cfg.config.ts': `import { defineConfig } from 'cfg-grpc';

export default defineConfig({
  grpc: {
    server: { host: '127.0.0.1', port: 0 },
    enabledApps: ${enabledApps},
    monitor: { enabled: false },
  },
});
`,
    },
    'cfg-startapp-',
  );
  projects.push(p);
  return p;
}

/** `cfg startapp` in-process (the command's own function) for each single-kind app, in order. */
export async function startSingleKindApps(p: Project): Promise<void> {
  for (const [name, kind] of SINGLE_KIND_APPS) await startApp({ name, rpcs: [kind], cwd: p.root });
}

/** Every file of the project but node_modules (path -> text). */
export async function projectFiles(p: Project): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name === 'node_modules') continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else out.set(relative(p.root, path), await readFile(path, 'utf8'));
    }
  };
  await walk(p.root);
  return out;
}

/** Runs a program to completion; not as a child of this test (node --test in it runs its own files). */
export function runProgram(file: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: 110_000, maxBuffer: 16 << 20, env: { ...env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}
