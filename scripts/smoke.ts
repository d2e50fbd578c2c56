// The README's first command, checked: start `npx cfg rungrpc` as a user would, wait for its
// banner, call GetCoin BTC through the app's typed client, then SIGTERM it and expect exit 0.
import { spawn } from 'node:child_process';
import { cryptoClient } from '../apps/crypto/grpc_services/client.ts';

const child = spawn('npx', ['cfg', 'rungrpc'], {
  env: { ...process.env, CFG_GRPC_PORT: process.env.CFG_GRPC_PORT ?? '0' },
  stdio: ['ignore', 'pipe', 'pipe'],
  // Its own process group, so SIGTERM reaches npx and cfg together, as Ctrl-C in a terminal does.
  detached: true,
});
let out = '';
let err = '';
child.stderr.on('data', (chunk: Buffer) => {
  err += chunk;
  process.stderr.write(chunk);
});
const port = await new Promise<number>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no banner after 60 s:\n${out}`)), 60_000);
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk;
    process.stdout.write(chunk);
    const m = /listening on \S*:(\d+)/.exec(out);
    if (m) {
      clearTimeout(timer);
      resolve(Number(m[1]));
    }
  });
  child.on('exit', (code) => reject(new Error(`cfg rungrpc exited with ${code} before serving:\n${out}`)));
});
const client = cryptoClient(`127.0.0.1:${port}`);
try {
  const reply = await client.getCoin({ symbol: 'BTC' });
  if (!reply.success || reply.coin?.symbol !== 'BTC') throw new Error(`unexpected GetCoin reply: ${JSON.stringify(reply)}`);
  console.log(`smoke: GetCoin BTC -> ${reply.coin.name} $${reply.coin.priceUsd}`);
} finally {
  client.close();
}
// The signal goes to the process group (npx and cfg); cfg's own clean exit is read from its
// last log line ("stopped"), written just before it exits 0, once its output has closed.
const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
  child.on('close', (c, s) => resolve([c, s]));
  process.kill(-child.pid!, 'SIGTERM');
});
if (!(code === 0 || signal === 'SIGTERM') || !/"msg":"stopped"|stopped/.test(err)) {
  throw new Error(`cfg rungrpc did not stop cleanly after SIGTERM (exit ${code ?? signal})`);
}
console.log('smoke: rungrpc stopped cleanly on SIGTERM');
