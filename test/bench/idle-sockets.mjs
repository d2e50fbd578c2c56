// What idle connections cost the server (docs/operations.md "Connection limits"), Linux only:
//   node test/bench/idle-sockets.mjs [checkout=.] [N=6000]
// starts `cfg rungrpc --port 0` in the checkout (its cfg.config.ts, default limits), opens N/2 silent
// sockets and N/2 that send the HTTP/2 preface and SETTINGS and go quiet, and prints the server's
// descriptor count and RSS before, 3 s and 15 s after, a health Check over a new connection each
// time, and the connection-limit warnings it logged. The client needs N descriptors of its own.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
const [dir = '.', n = '6000'] = process.argv.slice(2);
const N = Number(n);
const child = spawn(process.execPath, ['bin/cfg.js', 'rungrpc', '--port', '0'], {
  cwd: dir,
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, CFG_LOG_FORMAT: 'json', NO_COLOR: '1' },
});
let out = '',
  err = '';
child.stdout.on('data', (d) => (out += d));
child.stderr.on('data', (d) => (err += d));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let m;
for (let tries = 0; !(m = /listening on \S+:(\d+) \(pid (\d+)\)/.exec(out)); tries++) {
  if (tries > 300) throw new Error(`no banner after 30 s:\n${out}\n${err.slice(-2000)}`);
  await sleep(100);
}
const [port, pid] = [Number(m[1]), Number(m[2])];
const stat = () => ({
  fds: readdirSync(`/proc/${pid}/fd`).length,
  rssMB: Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024),
});
const health = () =>
  new Promise((resolve) => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.on('error', (e) => resolve(`connect error ${e.code}`));
    const req = s.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let st;
    req.on('trailers', (t) => (st = t['grpc-status']));
    req.on('response', (h) => (st ??= h['grpc-status']));
    req.on('error', () => {});
    req.resume();
    req.setTimeout(5000, () => req.close());
    req.on('close', () => {
      s.destroy();
      resolve(`grpc-status ${st}`);
    });
    req.end(Buffer.alloc(5));
  });
await sleep(1000);
console.log('before', stat(), await health());
const preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
const socks = [];
let closed = 0;
for (let i = 0; i < N; i += 250) {
  await Promise.all(
    Array.from(
      { length: Math.min(250, N - i) },
      (_, j) =>
        new Promise((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.on('error', () => {});
          s.on('close', () => closed++);
          s.on('data', () => {});
          s.once('connect', () => {
            if ((i + j) % 2) s.write(preface);
            resolve();
          });
          s.once('close', resolve);
          socks.push(s);
        }),
    ),
  );
}
const t0 = Date.now();
await sleep(3000);
console.log(`holding ${N} (${closed} closed by the server) after 3 s`, stat(), await health());
await sleep(12000);
console.log(`after ${Math.round((Date.now() - t0) / 1000)} s: ${closed} of ${N} closed by the server`, stat(), await health());
const warns = err.split('\n').filter((l) => l.includes('connection limit reached'));
console.log(
  `limit warnings: ${warns.length}`,
  warns.map((l) => JSON.parse(l).msg),
);
for (const s of socks) s.destroy();
await sleep(1500);
console.log('released', stat());
child.kill('SIGTERM');
