// `cfg setup` (what `npm install` runs): both Prisma clients generated with the network unreachable
// (in a network namespace of its own, proved by a probe), migrations and seeds applied on the
// SQLite default. On PostgreSQL: db-setup-postgresql.test.ts; `cfg seed`: db-seed.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { REPO, type Project } from './fixtures/project.ts';
import { closedPort, cryptoProject, PROVIDERS } from './support/db.ts';

const CLI = join(REPO, 'bin', 'cfg.js');

/** The run to time out an isolation probe or a setup: generous for a loaded machine. */
const RUN_MS = 120_000;

function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { ...options, timeout: RUN_MS }, (err, stdout, stderr) =>
      resolve({
        code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0,
        stdout,
        stderr,
      }),
    );
  });
}

/**
 * A command prefix that runs a program in a network namespace of its own (not even loopback is
 * up): `unshare -n` as root, `unshare -rn` (a user namespace) otherwise. Each is proved by a probe:
 * the program inside must fail to reach a port this process listens on (an assertion fails when
 * it reaches it). A reason instead when neither can run here.
 */
async function isolation(): Promise<{ prefix: string[] } | { reason: string }> {
  const listener = createServer((s) => s.destroy()).listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as AddressInfo;
  const probe = `require('node:net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('reached'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); })`;
  const tried: string[] = [];
  try {
    for (const prefix of [
      ['unshare', '-n'],
      ['unshare', '-rn'],
    ]) {
      const out = await run(prefix[0]!, [...prefix.slice(1), process.execPath, '-e', probe]);
      const said = out.stdout.trim();
      // It ran, yet the network is there: a namespace that does not isolate is a failure, not a skip.
      if (out.code === 0)
        assert.match(
          said,
          /^E[A-Z]+$/,
          `${prefix.join(' ')} ran the probe, which reached 127.0.0.1:${port} (it said "${said}"): no isolation`,
        );
      if (out.code === 0) return { prefix };
      tried.push(`${prefix.join(' ')}: exit ${out.code} ${out.stderr.trim()}`);
    }
  } finally {
    listener.close();
  }
  return { reason: `no network namespace for cfg setup (${tried.join('; ')})` };
}

/** `cfg setup` isolated from the network by `prefix`, and with HTTP(S) proxies on a closed port. */
async function setupOffline(project: Project, prefix: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proxy = `http://127.0.0.1:${await closedPort()}`;
  const env = {
    ...process.env,
    NO_COLOR: '1',
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    ALL_PROXY: proxy,
    NO_PROXY: '',
    no_proxy: '',
    DATABASE_URL: '',
  };
  return run(prefix[0]!, [...prefix.slice(1), process.execPath, CLI, 'setup'], { cwd: project.root, env });
}

describe('cfg setup', () => {
  test('with the network unreachable: generates both Prisma clients and the stubs, then migrates and seeds the SQLite default; again changes nothing', async (t) => {
    const isolated = await isolation();
    if ('reason' in isolated) {
      // Without a namespace, "offline" would be a claim nothing checks: said, not passed.
      t.skip(isolated.reason);
      return;
    }
    const project = await cryptoProject();
    try {
      const run = await setupOffline(project, isolated.prefix);
      assert.equal(run.code, 0, run.stderr);
      for (const provider of PROVIDERS) {
        const cls = await readFile(project.path('generated', 'prisma', provider, 'internal', 'class.ts'), 'utf8');
        assert.match(cls, new RegExp(`"activeProvider": "${provider}"`));
        assert.ok((await stat(project.path('generated', 'prisma', provider, 'client.ts'))).isFile());
      }
      assert.ok((await stat(project.path('generated', 'crypto_service.ts'))).isFile());
      assert.match(run.stdout, /migration\(s\) applied/);
      assert.match(run.stdout, /seeded: crypto/);

      const file = project.path('var', 'cfg.sqlite3');
      const count = (table: string) => {
        const db = new Database(file, { readonly: true });
        try {
          return (db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      assert.equal(count('crypto_coin'), 7);

      const again = await setupOffline(project, isolated.prefix);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /0 migration\(s\) applied/);
      assert.equal(count('crypto_coin'), 7);
      assert.equal(count('auth_user'), 3);
    } finally {
      await project.remove();
    }
  });
});
