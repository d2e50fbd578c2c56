// Drives a gRPC server with h2load (Debian's nghttp2-client) sending real gRPC frames, and
// checks the replies' bytes: h2load counts HTTP 200 as success, but a gRPC error is an HTTP 200
// with no body, so errors = replies whose data did not arrive.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall, canAptInstall } from '../../scripts/apt-install.mjs';

export interface LoadResult {
  rps: number;
  /** CPU h2load itself used, in cores (CPU seconds / wall seconds): what the load generator takes from the machine. */
  h2loadCores: number;
  requests: number;
  errors: number;
  p50ms: number;
  p99ms: number;
}

const hasH2load = () => spawnSync('h2load', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * h2load, or the bench stops with the command to run. Missing and running as root with apt-get
 * (a fresh Debian machine): installs Debian's nghttp2-client first, saying so, as the tests'
 * scripts/ensure-nginx.mjs does for nginx.
 */
export function requireH2load(): void {
  if (hasH2load()) return;
  if (canAptInstall()) {
    console.error("bench: h2load is missing; installing Debian's nghttp2-client");
    if (aptInstall('bench', 'nghttp2-client') && hasH2load()) return;
  }
  console.error(
    'h2load is not installed. Install it with: sudo apt-get install -y nghttp2-client (Debian/Ubuntu; brew install nghttp2 on macOS).',
  );
  process.exit(1);
}

/** A gRPC request frame: compressed flag 0, 4-byte big-endian length, the message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  return frame;
}

export interface LoadOptions {
  port: number;
  path: string;
  body: Buffer;
  /** Bytes of one successful reply's DATA (5 + message length). */
  replyBytes: number;
  headers?: Record<string, string>;
  /** The request's content type. Default "application/grpc" (with te: trailers). */
  contentType?: string;
  /** HTTP/1.1 (h2load --h1): `streams` is then requests in flight per connection (1: keep-alive, no pipelining). */
  h1?: boolean;
  seconds: number;
  connections: number;
  streams: number;
}

export function runLoad(o: LoadOptions): Promise<LoadResult> {
  const dir = join(tmpdir(), `cfg-h2load-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const bodyFile = `${dir}.body`;
  const logFile = `${dir}.log`;
  writeFileSync(bodyFile, o.body);
  const args = [
    `http://127.0.0.1:${o.port}${o.path}`,
    '-d',
    bodyFile,
    '-H',
    `content-type: ${o.contentType ?? 'application/grpc'}`,
    ...(o.contentType === undefined ? ['-H', 'te: trailers'] : []),
    ...(o.h1 ? ['--h1'] : []),
    '-c',
    String(o.connections),
    '-m',
    String(o.streams),
    '-t',
    '1',
    '-D',
    String(o.seconds),
    '--warm-up-time',
    '1',
    '--log-file',
    logFile,
  ];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  const started = performance.now();
  let h2loadCpu = 0;
  return new Promise((resolve, reject) => {
    const child = execFile('h2load', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      clearInterval(sampler);
      try {
        if (err) throw new Error(`h2load failed: ${err.message}\n${stdout}`);
        const done = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded/.exec(stdout);
        const data = /traffic: .*?, .*?\((\d+)\) data/.exec(stdout) ?? /traffic:.* (\d+)\) data/.exec(stdout);
        const secs = /finished in ([\d.]+)s/.exec(stdout);
        if (!done || !data || !secs) throw new Error(`cannot parse h2load output:\n${stdout}`);
        const succeeded = Number(done[2]);
        const goodReplies = Math.floor(Number(data[1]) / o.replyBytes);
        const durations = readFileSync(logFile, 'utf8')
          .trim()
          .split('\n')
          .map((line) => Number(line.split('\t')[2]))
          .filter((n) => Number.isFinite(n))
          .sort((a, b) => a - b);
        const pct = (p: number) =>
          durations.length ? durations[Math.min(durations.length - 1, Math.floor(durations.length * p))]! / 1000 : NaN;
        resolve({
          rps: succeeded / Number(secs[1]),
          requests: succeeded,
          errors: Math.max(0, succeeded - goodReplies) + (Number(done[1]) - succeeded),
          p50ms: pct(0.5),
          p99ms: pct(0.99),
          h2loadCores: h2loadCpu / ((performance.now() - started) / 1000),
        });
      } catch (e) {
        reject(e);
      } finally {
        rmSync(bodyFile, { force: true });
        rmSync(logFile, { force: true });
      }
    });
    // h2load's CPU, sampled while it runs (the last 100 ms are missed: under 2% of a run).
    const sampler = setInterval(() => (h2loadCpu = cpuSeconds(child.pid!) || h2loadCpu), 100);
  });
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;
