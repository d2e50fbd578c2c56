// Starting and measuring the bench's server processes.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import Database from 'better-sqlite3';
import { cpuSeconds } from './h2load.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface BenchServer {
  name: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** ms from spawn to the "listening on" line. */
  startupMs: number;
  /** When the process was spawned (performance.now() of this process). */
  startedAt: number;
  /** The web listener's port (gRPC-Web and Connect), when the banner names one. */
  webPort?: number;
  /** The server's stderr so far (its last 64 KB). */
  stderr(): string;
  stop(): Promise<void>;
}

export function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<BenchServer> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err = (err + chunk).slice(-65_536)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no "listening on" after 60 s: ${out}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk;
      const m = /listening on \S*:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({
          name,
          port: Number(m[1]),
          pid: child.pid!,
          child,
          startupMs: performance.now() - started,
          startedAt: started,
          webPort: /gRPC-Web and Connect \S*:(\d+)\//.exec(out) ? Number(/gRPC-Web and Connect \S*:(\d+)\//.exec(out)![1]) : undefined,
          stderr: () => err,
          stop: () =>
            new Promise((res) => {
              if (child.exitCode !== null) return res();
              child.once('exit', () => res());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening: ${out}`));
    });
  });
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** CPU seconds used so far by a server and its cluster workers. */
export function serverCpuSeconds(pid: number): number {
  return [pid, ...children(pid)].reduce((sum, p) => sum + cpuSeconds(p), 0);
}

/** Resident memory of a server and its cluster workers, in bytes. */
export function rss(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  return [pid, ...children(pid)].reduce((sum, p) => sum + status(p, field), 0);
}

/**
 * Makes `count` calls over raw HTTP/2; each must end with grpc-status 0 and carry a reply of the
 * same size. Resolves to that size (the bytes h2load must see per good reply).
 */
export async function sampleReplyBytes(
  port: number,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
  count = 20,
): Promise<number> {
  let size = -1;
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    for (let i = 0; i < count; i++) {
      const problem = await new Promise<string | null>((resolve) => {
        const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
        let bytes = 0;
        req.on('data', (d: Buffer) => (bytes += d.length));
        req.on('trailers', (t) => {
          const code = t['grpc-status'];
          if (code === '0' && (size === -1 || size === bytes) && bytes > 5) size = bytes;
          resolve(
            code !== '0'
              ? `grpc-status ${code}: ${t['grpc-message']}`
              : bytes !== size
                ? `reply of ${bytes} bytes, earlier replies ${size}`
                : null,
          );
        });
        req.on('response', (h) => {
          if (h['grpc-status'] !== undefined && h['grpc-status'] !== '0') resolve(`grpc-status ${h['grpc-status']}: ${h['grpc-message']}`);
        });
        req.on('error', (e) => resolve(e.message));
        req.end(body);
      });
      if (problem) throw new Error(`sample call to ${path} failed: ${problem}`);
    }
    return size;
  } finally {
    session.close();
  }
}

/**
 * Makes `count` calls to the web listener (Connect or gRPC-Web) over HTTP/2 or HTTP/1.1; each must
 * answer 200 with a body of the same size (a gRPC-Web body ending in grpc-status 0). Resolves to
 * that size (the bytes h2load must see per good reply).
 */
export async function sampleWebReplyBytes(
  port: number,
  path: string,
  body: Buffer,
  contentType: string,
  h1 = false,
  count = 20,
): Promise<number> {
  let size = -1;
  const session = h1 ? undefined : http2.connect(`http://127.0.0.1:${port}`);
  const once = () =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const chunks: Buffer[] = [];
      if (session) {
        const req = session.request({ ':method': 'POST', ':path': path, 'content-type': contentType });
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('end', () => resolve({ status, body: Buffer.concat(chunks) }));
        req.on('error', reject);
        req.end(body);
      } else {
        const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': contentType } }, (res) => {
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end(body);
      }
    });
  try {
    for (let i = 0; i < count; i++) {
      const reply = await once();
      const grpcWebOk = !contentType.startsWith('application/grpc-web') || reply.body.includes('grpc-status:0\r\n');
      if (reply.status !== 200 || !grpcWebOk)
        throw new Error(
          `sample call to ${path} (${contentType}) failed: HTTP ${reply.status} ${reply.body.toString('latin1').slice(0, 200)}`,
        );
      if (size !== -1 && size !== reply.body.length)
        throw new Error(`sample call to ${path} (${contentType}): a reply of ${reply.body.length} bytes, earlier replies ${size}`);
      size = reply.body.length;
    }
    return size;
  } finally {
    session?.close();
  }
}

export function cfgCli(args: string[], env: NodeJS.ProcessEnv): string {
  return execFileSync(process.execPath, ['bin/cfg.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' }).trim();
}

/** Rows in the request log table of a SQLite database (-1 when the table does not exist). */
export function requestLogRows(databaseUrl: string): number {
  const db = new Database(databaseUrl.replace(/^file:/, ''), { fileMustExist: true });
  try {
    const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grpc_request_log'`).get();
    return table ? Number(db.prepare('SELECT COUNT(*) FROM grpc_request_log').pluck().get()) : -1;
  } finally {
    db.close();
  }
}

export { ROOT };
