// npm run bench: what cfg costs on the hot path, measured side by side on this machine.
// Every case is run interleaved with its baseline (X B X B) and reported as a ratio of the
// two, since the machine is shared and noisy. Writes a table and test/bench/results/latest.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { GetCoinRequest } from '../../generated/crypto_service.ts';
import { grpcFrame, type LoadResult, requireH2load, runLoad } from './h2load.ts';
import { type BenchServer, cfgCli, ROOT, rss, sampleReplyBytes, startProcess } from './servers.ts';

requireH2load();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 4;
const STREAMS = 16;
const PATH = '/crypto.CryptoService/GetCoin';
const PG_URL = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

// --- databases: a fresh SQLite file and a fresh PostgreSQL schema, migrated and seeded ---------
const work = mkdtempSync(join(tmpdir(), 'cfg-bench-'));
const sqliteEnv = { DATABASE_URL: `file:${join(work, 'bench.sqlite3')}`, CFG_LOG_LEVEL: 'warn', CFG_GRPC_HOST: '127.0.0.1', CFG_SECRET_KEY: 'bench-secret' };
const schema = `cfg_bench_${process.pid}`;
const pgEnv = { ...sqliteEnv, DATABASE_URL: `${PG_URL}?schema=${schema}` };
const admin = new pg.Client({ connectionString: PG_URL });
await admin.connect();
await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
for (const env of [sqliteEnv, pgEnv]) {
  cfgCli(['migrate'], env);
  cfgCli(['seed'], env);
}
const token = cfgCli(['token', '--username', 'alice'], sqliteEnv);
const pgToken = cfgCli(['token', '--username', 'alice'], pgEnv);

const body = grpcFrame(GetCoinRequest.encode({ symbol: 'BTC' }).finish());
const servers: BenchServer[] = [];
const results: Record<string, { runs: LoadResult[]; startupMs: number; peakRss: number }> = {};
try {
  const start = async (name: string, args: string[], env: NodeJS.ProcessEnv) => {
    const s = await startProcess(name, args, env);
    servers.push(s);
    return s;
  };
  const cfgArgs = ['bin/cfg.js', 'rungrpc', '--port', '0'];
  const bare = ['--import', 'tsx', 'test/bench/bare-server.ts'];
  const a = await start('a. bare grpc-js, from memory', [...bare, 'memory'], sqliteEnv);
  const b = await start('b. bare grpc-js + Prisma (SQLite)', [...bare, 'prisma'], sqliteEnv);
  const c = await start('c. cfg rungrpc (SQLite, auth on, public method)', cfgArgs, sqliteEnv);
  const d = { ...c, name: 'd. c + a valid token (JWT + user)' };
  const e = await start('e. cfg rungrpc on PostgreSQL', cfgArgs, pgEnv);
  const f = await start('f. cfg rungrpc, 2 processes (cluster)', [...cfgArgs, '--processes', '2'], sqliteEnv);

  // Each server's good reply, sampled over raw HTTP/2 (grpc-status 0 checked): h2load's data bytes
  // divided by it count the replies that really succeeded.
  const headersFor = (s: { name: string }): Record<string, string> => (s === d ? { authorization: `Bearer ${token}` } : {});
  const replyBytes = new Map<string, number>();
  for (const s of [a, b, c, d, e, f]) replyBytes.set(s.name, await sampleReplyBytes(s.port, PATH, body, headersFor(s)));
  void pgToken;

  const measure = async (s: BenchServer | typeof d) => {
    const r = await runLoad({ port: s.port, path: PATH, body, replyBytes: replyBytes.get(s.name)!, headers: headersFor(s), seconds: SECONDS, connections: CONNECTIONS, streams: STREAMS });
    const entry = (results[s.name] ??= { runs: [], startupMs: 'startupMs' in s ? s.startupMs : 0, peakRss: 0 });
    entry.runs.push(r);
    entry.peakRss = Math.max(entry.peakRss, rss(s.pid, 'VmHWM'));
    process.stderr.write(`  ${s.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, errors ${r.errors}\n`);
  };
  const pairs: Array<[BenchServer | typeof d, BenchServer | typeof d, string]> = [
    [a, b, 'b/a'],
    [c, b, 'c/b'],
    [d, c, 'd/c'],
    [e, c, 'e/c'],
    [f, c, 'f/c'],
  ];
  const ratios: Record<string, number> = {};
  for (const [x, y, label] of pairs) {
    process.stderr.write(`${label}: interleaving ${x.name} with ${y.name}\n`);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let round = 0; round < 2; round++) {
      await measure(x);
      xs.push(results[x.name]!.runs.at(-1)!.rps);
      await measure(y);
      ys.push(results[y.name]!.runs.at(-1)!.rps);
    }
    const mean = (v: number[]) => v.reduce((s, n) => s + n, 0) / v.length;
    ratios[label] = label === 'b/a' ? mean(ys) / mean(xs) : mean(xs) / mean(ys);
  }

  // Start-up to serving, three times, with stubs already generated.
  const startups: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = await startProcess('startup', cfgArgs, sqliteEnv);
    startups.push(s.startupMs);
    await s.stop();
  }
  startups.sort((x, y) => x - y);

  // Memory under a long run at full load: RSS sampled every 5 s.
  const memorySeconds = Number(process.env.BENCH_MEMORY_SECONDS ?? 60);
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rss(c.pid)), 5000);
  await runLoad({ port: c.port, path: PATH, body, replyBytes: replyBytes.get(c.name)!, seconds: memorySeconds, connections: CONNECTIONS, streams: STREAMS });
  clearInterval(sampler);
  const settled = samples.slice(Math.min(2, samples.length - 1));
  const rssGrowth = settled.length > 1 ? settled.at(-1)! / settled[0]! : 1;

  // --- report ------------------------------------------------------------------------------
  const mean = (v: number[]) => v.reduce((s, n) => s + n, 0) / v.length;
  const rows = Object.entries(results).map(([name, r]) => ({
    case: name,
    rps: Math.round(mean(r.runs.map((x) => x.rps))),
    p50ms: +mean(r.runs.map((x) => x.p50ms)).toFixed(2),
    p99ms: +mean(r.runs.map((x) => x.p99ms)).toFixed(2),
    errors: r.runs.reduce((s, x) => s + x.errors, 0),
    requests: r.runs.reduce((s, x) => s + x.requests, 0),
    peakRssMiB: +(r.peakRss / 2 ** 20).toFixed(1),
  }));
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version };
  const report = {
    date: new Date().toISOString(),
    machine,
    settings: { seconds: SECONDS, connections: CONNECTIONS, streamsPerConnection: STREAMS, call: 'GetCoin("BTC")' },
    cases: rows,
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, +v.toFixed(3)])),
    startupMs: { min: Math.round(startups[0]!), median: Math.round(startups[1]!), max: Math.round(startups[2]!) },
    memory: { seconds: memorySeconds, samplesMiB: samples.map((s) => +(s / 2 ** 20).toFixed(1)), growth: +rssGrowth.toFixed(3) },
  };
  console.log(`\ncfg bench — ${machine.cpus} cores (${machine.cpu}), ${machine.memGiB} GiB, Node ${machine.node}; ${CONNECTIONS} connections x ${STREAMS} streams, ${SECONDS} s per run\n`);
  console.table(rows);
  console.log('ratios (same run, interleaved):', report.ratios);
  console.log(`start-up to serving: median ${report.startupMs.median} ms (min ${report.startupMs.min}, max ${report.startupMs.max})`);
  console.log(`RSS over ${memorySeconds} s at full load: ${report.memory.samplesMiB.join(' -> ')} MiB (growth x${report.memory.growth})`);
  mkdirSync(join(ROOT, 'test/bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'test/bench/results/latest.json'), JSON.stringify(report, null, 2) + '\n');
  console.log('written: test/bench/results/latest.json');
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
  await admin.end();
  rmSync(work, { recursive: true, force: true });
}
