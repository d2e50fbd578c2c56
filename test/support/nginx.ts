// nginx started by a test from the shipped deploy/nginx.conf (only the upstream's server lines and
// the listen port replaced), as the test's own user, with every file in a temp directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureNginx, NGINX } from '../../scripts/ensure-nginx.mjs';
import { freePort } from './deployment.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface Nginx {
  port: number;
  address: string;
  dir: string;
  /** The access log's lines so far (log_format cfg_grpc). */
  accessLog(): string[];
  errorLog(): string;
  stop(): Promise<void>;
}

/** deploy/nginx.conf with these upstream ports and this listen port. */
export function nginxConfig(upstreams: number[], port: number): string {
  const shipped = readFileSync(join(ROOT, 'deploy/nginx.conf'), 'utf8');
  const servers = [...shipped.matchAll(/^(\s*)server 127\.0\.0\.1:\d+( [^;]*)?;$/gm)];
  if (servers.length !== 3 || !/listen 127\.0\.0\.1:\d+ http2;/.test(shipped))
    throw new Error('deploy/nginx.conf: expected 3 upstream server lines and one listen line');
  const indent = servers[0]![1]!;
  const options = servers[0]![2] ?? '';
  let conf = shipped.replace(servers[0]![0], upstreams.map((p) => `${indent}server 127.0.0.1:${p}${options};`).join('\n'));
  for (const s of servers.slice(1)) conf = conf.replace(`${s[0]}\n`, '');
  return conf.replace(/listen 127\.0\.0\.1:\d+ http2;/, `listen 127.0.0.1:${port} http2;`);
}

/** Installs nginx if it is missing (scripts/ensure-nginx.mjs: apt-get as root, else fails saying what to run), then starts it. */
export async function startNginx(upstreams: number[]): Promise<Nginx> {
  if (!ensureNginx()) throw new Error(`nginx is needed at ${NGINX} (scripts/ensure-nginx.mjs said what to run)`);
  const dir = mkdtempSync(join(tmpdir(), 'cfg-nginx-'));
  // Run as root, nginx's workers drop to `nobody`: they must be able to reach the directory.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'temp'));
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(upstreams, port));
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', 'nginx.conf', '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      const why = `nginx exited ${child.exitCode}: ${out}${read('error.log')}`;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(why);
    }
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      }).once('error', () => resolve(false));
    });
    if (up) break;
    if (i > 200) {
      const why = `nginx did not listen on ${port}: ${out}${read('error.log')}`;
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(why);
    }
    await sleep(25);
  }
  return {
    port,
    address: `127.0.0.1:${port}`,
    dir,
    accessLog: () => read('access.log').split('\n').filter(Boolean),
    errorLog: () => read('error.log'),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM'); // nginx's fast shutdown
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
