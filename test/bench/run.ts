// npm run bench: what cfg costs on the hot path, measured side by side on this machine.
// Every case is run interleaved with its baseline (X B X B) and reported as a ratio of the
// two, since the machine is shared and noisy. Writes tables and test/bench/results/latest.{json,md}.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cryptoClient } from '../../apps/crypto/grpc_services/client.ts';
import { GetCoinRequest } from '../../generated/crypto_service.ts';
import { grpcFrame, type LoadResult, requireH2load, runLoad } from './h2load.ts';
import { type Target, writeReport } from './report.ts';
import {
  type BenchServer,
  cfgCli,
  requestLogRows,
  ROOT,
  rss,
  sampleReplyBytes,
  sampleWebReplyBytes,
  serverCpuSeconds,
  startProcess,
} from './servers.ts';
import { BOTH, measureTransfers, ONE, type TransferCase, type TransferRow } from './transfer.ts';
import { measureWatch, WATCH_LABELS, watchNotes, watchOptionsFromEnv, watchTargets, type WatchRow } from './watch.ts';

requireH2load();
const loadAtStart = +loadavg()[0]!.toFixed(2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Rounds per pair (X Y X Y ...): the machine is shared, so each round's ratio is taken from two runs next to each other in time. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Only these pairs (e.g. BENCH_PAIRS=c/b,f+/c+), for working on one figure; the full report needs them all. */
const ONLY = process.env.BENCH_PAIRS ? new Set(process.env.BENCH_PAIRS.split(',')) : undefined;
/** Start-ups measured (issue 22: the median of 5). */
const STARTUP_RUNS = 5;
const CONNECTIONS = 4;
const STREAMS = 16;
const PATH = '/crypto.CryptoService/GetCoin';
const PG_URL = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

// --- databases: a fresh SQLite file and a fresh PostgreSQL schema, migrated and seeded ---------
const work = mkdtempSync(join(tmpdir(), 'cfg-bench-'));
// The web listener (on in cfg.config.ts) on a free port of each server's own.
const sqliteEnv = {
  DATABASE_URL: `file:${join(work, 'bench.sqlite3')}`,
  CFG_LOG_LEVEL: 'warn',
  CFG_GRPC_HOST: '127.0.0.1',
  CFG_WEB_HOST: '127.0.0.1',
  CFG_WEB_PORT: '0',
  CFG_SECRET_KEY: 'bench-secret',
};
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
const tokensOf = (env: NodeJS.ProcessEnv) => ({
  alice: cfgCli(['token', '--username', 'alice'], env),
  bob: cfgCli(['token', '--username', 'bob'], env),
});
/** The Transfer pairs (transfer.ts): one direction over both on PostgreSQL, SQLite over PostgreSQL. */
const TRANSFER_PAIRS = ['t1/t2', 'ts/t2'].filter((label) => !ONLY || ONLY.has(label));
/** The WatchPrices fan-out cases (watch.ts): w0 bare grpc-js, w1 one process, w2 --processes 2 (BENCH_PAIRS=w0,w1,w2 runs only them). */
const WATCH_CASES = WATCH_LABELS.filter((label) => !ONLY || ONLY.has(label));

const mean = (v: number[]) => v.reduce((sum, n) => sum + n, 0) / v.length;
const request = GetCoinRequest.encode({ symbol: 'BTC' }).finish();
const body = grpcFrame(request);
const servers: BenchServer[] = [];
const results: Record<string, { runs: LoadResult[]; startupMs: number; peakRss: number; serverCores: number[] }> = {};
try {
  // Progress goes to stderr, one line per step, between runs (never during one): the report is on stdout.
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const start = async (name: string, args: string[], env: NodeJS.ProcessEnv) => {
    say(`starting ${name}`);
    const s = await startProcess(name, args, env);
    servers.push(s);
    say(`  up in ${Math.round(s.startupMs)} ms on port ${s.port}`);
    return s;
  };
  const cfgArgs = ['bin/cfg.js', 'rungrpc', '--port', '0'];
  const bare = ['--import', 'tsx', 'test/bench/bare-server.ts'];
  // The crypto app caches GetCoin (apps/crypto/grpc_services/coin-cache.ts). c, d, e, f and g run
  // with it off, so that they measure cfg over the same Prisma query as b; c+ and f+ run the app as
  // shipped (cache on), the figure the 4,300 req/s target is about.
  const off = { ...sqliteEnv, CRYPTO_COIN_CACHE: 'off' };
  const a = await start('a. bare grpc-js, from memory', [...bare, 'memory'], sqliteEnv);
  const b = await start('b. bare grpc-js + Prisma (SQLite)', [...bare, 'prisma'], sqliteEnv);
  const c = await start('c. cfg rungrpc (SQLite, auth on, public method), coin cache off', cfgArgs, off);
  const cs = await start('c+. c as shipped (coin cache on)', cfgArgs, sqliteEnv);
  const d = { ...c, name: 'd. c + a valid token (JWT + user)' };
  // GetCoin over the web listener of c+ (the same process as c+'s native gRPC): Connect binary on
  // h2c (4 x 16 streams, as native), Connect JSON on HTTP/1.1 keep-alive (64 connections, one
  // request at a time each, as browsers and curl send), gRPC-Web on h2c (4 x 16).
  const wc = { ...cs, name: 'wc. c+ over Connect+proto (h2c)', port: cs.webPort! };
  const wj = { ...cs, name: 'wj. c+ over Connect+JSON (HTTP/1.1 keep-alive, 64 connections)', port: cs.webPort! };
  const ww = { ...cs, name: 'ww. c+ over gRPC-Web (h2c)', port: cs.webPort! };
  /** How each case is driven: the gRPC cases as native gRPC (4 x 16 streams); the web cases as above. */
  const loads = new Map<string, { body: Buffer; contentType?: string; h1?: boolean; connections: number; streams: number }>([
    [wc.name, { body: Buffer.from(request), contentType: 'application/proto', connections: CONNECTIONS, streams: STREAMS }],
    [
      wj.name,
      { body: Buffer.from('{"symbol":"BTC"}'), contentType: 'application/json', h1: true, connections: CONNECTIONS * STREAMS, streams: 1 },
    ],
    [ww.name, { body, contentType: 'application/grpc-web+proto', connections: CONNECTIONS, streams: STREAMS }],
  ]);
  const loadOf = (s: { name: string }) => loads.get(s.name) ?? { body, connections: CONNECTIONS, streams: STREAMS };
  const e = await start('e. cfg rungrpc on PostgreSQL, coin cache off', cfgArgs, { ...pgEnv, CRYPTO_COIN_CACHE: 'off' });
  const f = await start('f. c with 2 processes (cluster), coin cache off', [...cfgArgs, '--processes', '2'], off);
  const fs = await start('f+. c+ with 2 processes (cluster), as shipped', [...cfgArgs, '--processes', '2'], sqliteEnv);
  const g = await start('g. c + request log (CFG_REQUEST_LOG=1)', cfgArgs, { ...off, CFG_REQUEST_LOG: '1' });
  // PostgreSQL as shipped (issue 18): GetCoin cached per process, kept coherent by the events
  // channel (LISTEN/NOTIFY); and e's cluster. Started only when a pair of theirs runs.
  const wanted = (...labels: string[]) => !ONLY || labels.some((l) => ONLY.has(l));
  const es = wanted('e+/c+') ? await start('e+. e as shipped (coin cache on, coherent through LISTEN/NOTIFY)', cfgArgs, pgEnv) : undefined;
  const fpg = wanted('fpg/e')
    ? await start('fpg. e with 2 processes (cluster), coin cache off', [...cfgArgs, '--processes', '2'], {
        ...pgEnv,
        CRYPTO_COIN_CACHE: 'off',
      })
    : undefined;
  const all = [a, b, c, cs, d, e, f, fs, g, ...(es ? [es] : []), ...(fpg ? [fpg] : [])];

  // Each server's good reply, sampled over raw HTTP/2 (grpc-status 0 checked): h2load's data bytes
  // divided by it count the replies that really succeeded.
  const headersFor = (s: { name: string }): Record<string, string> => (s === d ? { authorization: `Bearer ${token}` } : {});
  const replyBytes = new Map<string, number>();
  for (const s of all) replyBytes.set(s.name, await sampleReplyBytes(s.port, PATH, body, headersFor(s)));
  for (const s of [wc, wj, ww]) {
    const load = loadOf(s);
    replyBytes.set(s.name, await sampleWebReplyBytes(s.port, PATH, load.body, load.contentType!, load.h1));
  }
  void pgToken;

  // Warm every server first, over as many connections as the runs use, until two runs in a row
  // agree within 15% (at most 8 runs of 3 s): a cluster's second worker gets its first connection
  // only now, and a process's first seconds of calls cost several times more CPU while V8 compiles
  // the hot path (Prisma's runtime and its WebAssembly included); on a busy machine that takes
  // 10-20 s per process, and a cluster has two to warm.
  const pairs: Array<[BenchServer | typeof d, BenchServer | typeof d, string]> = [
    [a, b, 'b/a'],
    [c, b, 'c/b'],
    [cs, c, 'c+/c'],
    [cs, a, 'c+/a'],
    [d, c, 'd/c'],
    [e, c, 'e/c'],
    [f, c, 'f/c'],
    [fs, cs, 'f+/c+'],
    [g, c, 'g/c'],
    ...(es ? [[es, cs, 'e+/c+']] : []),
    ...(fpg ? [[fpg, e, 'fpg/e']] : []),
    [wc, cs, 'wc/c+'],
    [wj, cs, 'wj/c+'],
    [ww, cs, 'ww/c+'],
  ].filter(([, , label]) => !ONLY || ONLY.has(label as string)) as Array<[BenchServer | typeof d, BenchServer | typeof d, string]>;
  const used = new Set(pairs.flatMap(([x, y]) => [x.name, y.name]));
  for (const s of [...all, wc, wj, ww]) {
    if (!used.has(s.name)) continue;
    let last = 0;
    for (let run = 0; run < 8; run++) {
      const { rps } = await runLoad({
        port: s.port,
        path: PATH,
        ...loadOf(s),
        replyBytes: replyBytes.get(s.name)!,
        headers: headersFor(s),
        seconds: 3,
      });
      say(`  warming ${s.name.split('.')[0]}: run ${run + 1} of at most 8, ${rps.toFixed(0)} req/s`);
      if (run > 0 && Math.abs(rps - last) <= 0.15 * Math.max(rps, last)) break;
      last = rps;
    }
  }

  const measure = async (s: BenchServer | typeof d) => {
    const cpuBefore = serverCpuSeconds(s.pid);
    const t0 = performance.now();
    const r = await runLoad({
      port: s.port,
      path: PATH,
      ...loadOf(s),
      replyBytes: replyBytes.get(s.name)!,
      headers: headersFor(s),
      seconds: SECONDS,
    });
    const serverCores = (serverCpuSeconds(s.pid) - cpuBefore) / ((performance.now() - t0) / 1000);
    const entry = (results[s.name] ??= { runs: [], startupMs: 'startupMs' in s ? s.startupMs : 0, peakRss: 0, serverCores: [] });
    entry.runs.push(r);
    entry.serverCores.push(serverCores);
    entry.peakRss = Math.max(entry.peakRss, rss(s.pid, 'VmHWM'));
    process.stderr.write(
      `  ${s.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, errors ${r.errors}, server ${serverCores.toFixed(2)} cores, h2load ${r.h2loadCores.toFixed(2)} cores, load ${loadavg()[0]!.toFixed(1)}\n`,
    );
  };
  const ratios: Record<string, number> = {};
  /** Each round's ratio, from its two adjacent runs: their spread shows how noisy the machine was. */
  const roundRatios: Record<string, number[]> = {};
  for (const [x, y, label] of pairs) {
    process.stderr.write(`${label}: interleaving ${x.name} with ${y.name}\n`);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      await measure(x);
      xs.push(results[x.name]!.runs.at(-1)!.rps);
      await measure(y);
      ys.push(results[y.name]!.runs.at(-1)!.rps);
    }
    const inverse = label === 'b/a';
    ratios[label] = inverse ? mean(ys) / mean(xs) : mean(xs) / mean(ys);
    roundRatios[label] = xs.map((xr, i) => +(inverse ? ys[i]! / xr : xr / ys[i]!).toFixed(3));
  }
  // Transfer cases: servers of their own on the same databases, with 64 call slots (maxWorkers): the
  // 32 callers' transfers then all reach the ledger's batches instead of 22 of them queueing for one
  // of the default 10 slots (docs/money.md, "Call slots").
  let transfers: TransferRow[] = [];
  if (TRANSFER_PAIRS.length > 0) {
    const slots = { CFG_GRPC_MAX_WORKERS: '64' };
    const tpg = await start('t. cfg rungrpc on PostgreSQL (Transfer)', cfgArgs, { ...pgEnv, ...slots });
    const pgTokens = tokensOf(pgEnv);
    const t2: TransferCase = {
      label: 't2',
      name: 't2. Transfer, PostgreSQL, alice<->bob both directions at once',
      server: tpg,
      tokens: pgTokens,
      pairs: BOTH,
      admin,
    };
    const t1: TransferCase = {
      label: 't1',
      name: 't1. Transfer, PostgreSQL, alice->bob one direction',
      server: tpg,
      tokens: pgTokens,
      pairs: ONE,
      admin,
    };
    const needsSqlite = TRANSFER_PAIRS.includes('ts/t2');
    const ts: TransferCase | undefined = needsSqlite
      ? {
          label: 'ts',
          name: 'ts. Transfer, SQLite, alice<->bob both directions at once',
          server: await start('ts. cfg rungrpc on SQLite (Transfer)', cfgArgs, { ...sqliteEnv, ...slots }),
          tokens: tokensOf(sqliteEnv),
          pairs: BOTH,
        }
      : undefined;
    const byLabel = { 't1/t2': [t1, t2], 'ts/t2': [ts!, t2] } as Record<string, [TransferCase, TransferCase]>;
    const measured = await measureTransfers(
      TRANSFER_PAIRS.map((label) => byLabel[label]!),
      SECONDS,
      ROUNDS,
    );
    transfers = measured.rows;
    for (const [label, rounds] of Object.entries(measured.ratioRounds)) {
      roundRatios[label] = rounds;
      ratios[label] = mean(rounds);
    }
  }

  // WatchPrices fan-out: servers of their own, one per case and subscriber count, on a SQLite file
  // of their own (the publisher rewrites BTC's price, which the GetCoin cases' reply size depends on).
  let watch: WatchRow[] = [];
  if (WATCH_CASES.length > 0) {
    const watchEnv = { ...sqliteEnv, DATABASE_URL: `file:${join(work, 'watch.sqlite3')}` };
    cfgCli(['migrate'], watchEnv);
    cfgCli(['seed'], watchEnv);
    watch = await measureWatch(WATCH_CASES, watchEnv, cfgCli(['token', '--username', 'admin'], watchEnv), watchOptionsFromEnv());
  }

  // g only means something once the server writes the request log: say whether it did, and
  // whether it dropped any record (a graceful stop writes what is queued, then says how many were
  // dropped since start, if any: grpc.requestlog's "request log closed" warning).
  if (used.has(g.name)) await g.stop();
  const logged = used.has(g.name) ? requestLogRows(sqliteEnv.DATABASE_URL) : 1;
  const droppedLine = /request log closed: (\d+) record\(s\) dropped/.exec(g.stderr());
  const dropped = droppedLine ? Number(droppedLine[1]) : 0;
  const notes: string[] = [];
  notes.push(...watchNotes(watch));
  if (!used.has(g.name)) {
    /* g not run */
  } else if (logged <= 0)
    notes.push(
      `g: the server wrote no request log rows (${logged < 0 ? 'no grpc_request_log table' : 'CFG_REQUEST_LOG not supported by this build yet'}), so g measured plain c.`,
    );
  else notes.push(`g: the server wrote ${logged} grpc_request_log rows and dropped ${dropped}.`);

  // cfg's own code per call, in process (test/bench/overhead.ts): no network, so much less noise
  // than any ratio of two servers; it bounds what the chain, the adapter and the app add to c.
  say('overhead: cfg per call in process (test/bench/overhead.ts)');
  const overhead = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', 'test/bench/overhead.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...off },
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .at(-1)!,
  ) as {
    medianUs: Record<string, number>;
    appUs: number;
    adapterAndChainUs: number;
    totalUs: number;
    instantAdapterAndChainUs: number;
    interceptors: string[];
  };

  // Start-up to serving, five times, with stubs already generated; then the first GetCoin's reply,
  // sent the moment the banner says serving (what a client waiting for the port sees, with the work
  // cfg leaves until after the port is open: Prisma's query compiler, jsonwebtoken).
  // Wall time depends on what else the machine runs; the CPU it took (tsx's loader thread included) does less.
  const startups: number[] = [];
  const startupCpu: number[] = [];
  const firstReplies: number[] = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const s = await startProcess('startup', cfgArgs, sqliteEnv);
    startupCpu.push(serverCpuSeconds(s.pid) * 1000);
    const client = cryptoClient(`127.0.0.1:${s.port}`);
    await client.getCoin({ symbol: 'BTC' });
    const firstReply = performance.now() - s.startedAt;
    client.close();
    say(
      `start-up ${i + 1} of ${STARTUP_RUNS}: serving after ${Math.round(s.startupMs)} ms, first GetCoin answered after ${Math.round(firstReply)} ms`,
    );
    startups.push(s.startupMs);
    firstReplies.push(firstReply);
    await s.stop();
  }
  for (const list of [startups, startupCpu, firstReplies]) list.sort((x, y) => x - y);

  // Memory under a long run at full load (the app as shipped, the fastest cfg case): RSS every 5 s.
  const memorySeconds = Number(process.env.BENCH_MEMORY_SECONDS ?? 60);
  const samples: number[] = [];
  if (memorySeconds > 0) say(`memory: ${memorySeconds} s at full load on ${cs.name}, RSS every 5 s`);
  const sampler = setInterval(() => {
    samples.push(rss(cs.pid));
    say(`  memory: ${samples.length * 5} s, RSS ${(samples.at(-1)! / 2 ** 20).toFixed(1)} MiB`);
  }, 5000);
  const memoryRun =
    memorySeconds > 0
      ? await runLoad({
          port: cs.port,
          path: PATH,
          body,
          replyBytes: replyBytes.get(cs.name)!,
          seconds: memorySeconds,
          connections: CONNECTIONS,
          streams: STREAMS,
        })
      : { rps: NaN, errors: 0 };
  clearInterval(sampler);
  // After the first 10 s (heap still growing to its working size): the second half's mean over
  // the first half's. A leak shows as a trend; a single sample moves +-15% with each GC.
  const settled = samples.slice(Math.min(2, samples.length - 1));
  const half = Math.floor(settled.length / 2);
  const rssGrowth = half > 0 ? mean(settled.slice(settled.length - half)) / mean(settled.slice(0, half)) : 1;

  // --- report ------------------------------------------------------------------------------
  const rows = Object.entries(results).map(([name, r]) => ({
    case: name,
    rps: Math.round(mean(r.runs.map((x) => x.rps))),
    p50ms: +mean(r.runs.map((x) => x.p50ms)).toFixed(2),
    p99ms: +mean(r.runs.map((x) => x.p99ms)).toFixed(2),
    errors: r.runs.reduce((s, x) => s + x.errors, 0),
    requests: r.runs.reduce((s, x) => s + x.requests, 0),
    peakRssMiB: +(r.peakRss / 2 ** 20).toFixed(1),
    serverCores: +mean(r.serverCores).toFixed(2),
    // CPU per reply: moves much less than req/s when other work takes the machine's cores.
    serverCpuUsPerReq: Math.round((mean(r.serverCores) / mean(r.runs.map((x) => x.rps))) * 1e6),
    h2loadCores: +mean(r.runs.map((x) => x.h2loadCores)).toFixed(2),
  }));
  const machine = {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: +loadavg()[0]!.toFixed(2),
  };
  const mid = Math.floor(STARTUP_RUNS / 2);
  const startup = {
    runs: STARTUP_RUNS,
    min: Math.round(startups[0]!),
    median: Math.round(startups[mid]!),
    max: Math.round(startups.at(-1)!),
    cpuMedian: Math.round(startupCpu[mid]!),
    firstReplyMedian: Math.round(firstReplies[mid]!),
  };
  const growth = +rssGrowth.toFixed(3);
  const row = (s: { name: string }) => rows.find((r) => r.case === s.name);
  const targets: Record<string, Target> = {};
  const target = (name: string, want: string, got: number | undefined, met: (v: number) => boolean) => {
    if (got !== undefined && Number.isFinite(got)) targets[name] = { want, got: +got.toFixed(3), met: met(got) };
  };
  target('c/b', '>= 0.9', ratios['c/b'], (v) => v >= 0.9);
  target('d/c', '>= 0.85', ratios['d/c'], (v) => v >= 0.85);
  target('f/c', '>= 1.6', ratios['f/c'], (v) => v >= 1.6);
  target('c+ req/s', '>= 4300', row(cs)?.rps, (v) => v >= 4300);
  target('c+/a (cached path over bare grpc-js from memory)', '>= 0.9', ratios['c+/a'], (v) => v >= 0.9);
  target('e+/c+ (PostgreSQL cached over SQLite cached)', '>= 0.9', ratios['e+/c+'], (v) => v >= 0.9);
  target(`start-up to SERVING ms (median of ${STARTUP_RUNS})`, '< 1000', startup.median, (v) => v < 1000);
  target('wc/c+ (Connect+proto over native gRPC, same process)', '>= 0.7', ratios['wc/c+'], (v) => v >= 0.7);
  target('wj/c+ (Connect+JSON, HTTP/1.1, over native gRPC)', '>= 0.7', ratios['wj/c+'], (v) => v >= 0.7);
  target('ww/c+ (gRPC-Web over native gRPC)', '>= 0.7', ratios['ww/c+'], (v) => v >= 0.7);
  const t2Row = transfers.find((t) => t.case.startsWith('t2.'));
  target('t2 Transfer OK/s, PostgreSQL, both directions', '>= 1100', t2Row?.okPerSecond, (v) => v >= 1100);
  if (t2Row)
    target(
      't2 calls not OK',
      '= 0',
      Object.entries(t2Row.statuses).reduce((n, [s, k]) => n + (s === 'OK' ? 0 : k), 0),
      (v) => v === 0,
    );
  target('t1/t2 (one direction over both)', '>= 1.0', ratios['t1/t2'], (v) => v >= 1);
  // What bounds t2 on this machine: the CPU each part spends per transfer, the load generator's included.
  if (t2Row && t2Row.pgCpuUsPerOk !== null) {
    const perOk = t2Row.serverCpuUsPerOk + t2Row.generatorCpuUsPerCall + t2Row.pgCpuUsPerOk;
    notes.push(
      `t2: CPU per OK transfer: server ${t2Row.serverCpuUsPerOk} us, load generator ${t2Row.generatorCpuUsPerCall} us, PostgreSQL backends running the ledger ${t2Row.pgCpuUsPerOk} us (WAL writer and other background work not counted): ` +
        `${machine.cpus} cores could carry at most ~${Math.round((machine.cpus * 1e6) / perOk)} OK/s with nothing else running, ${Math.round((100 * t2Row.generatorCpuUsPerCall) / perOk)}% of that CPU being the generator's; ` +
        `the server and PostgreSQL alone, ~${Math.round((machine.cpus * 1e6) / (t2Row.serverCpuUsPerOk + t2Row.pgCpuUsPerOk))} OK/s. Load average ${loadAtStart} at start, ${+loadavg()[0]!.toFixed(2)} at end.`,
    );
  }
  if (memorySeconds > 0) target('RSS growth over the long run', '<= 1.1', growth, (v) => v <= 1.1);
  Object.assign(targets, watchTargets(watch));
  const cRow = row(c);
  if (cRow) {
    notes.push(
      `cfg's own code per GetCoin, in process (test/bench/overhead.ts, median of alternating batches, no network): ${overhead.totalUs} us ` +
        `(the app's method ${overhead.appUs} us, the call adapter and the chain [${overhead.interceptors.join(', ')}] ${overhead.adapterAndChainUs} us) ` +
        `over the bare query and converter (${overhead.medianUs.bare} us): ${((100 * overhead.totalUs) / cRow.serverCpuUsPerReq).toFixed(1)}% of c's server CPU per reply (${cRow.serverCpuUsPerReq} us). ` +
        `Around a method that answers at once, the adapter and chain alone cost ${overhead.instantAdapterAndChainUs} us.`,
    );
  }
  // What bounds a cluster's ratio here: the cores left once h2load has its share, over the cores
  // one process already uses (its main thread plus V8's helper threads).
  for (const [multi, single] of [[f, c], [fs, cs], ...(fpg ? [[fpg, e] as const] : [])] as const) {
    const m = row(multi);
    const one = row(single);
    if (!m || !one) continue;
    const ceiling = (machine.cpus - m.h2loadCores) / one.serverCores;
    const pgNote = multi === fpg ? " (PostgreSQL's backends, on the same cores and not counted, lower it further)" : '';
    notes.push(
      `${multi.name.split('.')[0]}/${single.name.split('.')[0]}: at most ${ceiling.toFixed(2)} on this machine${pgNote}: ${single.name.split('.')[0]} already used ${one.serverCores} cores and h2load took ${m.h2loadCores} of the ${machine.cpus} during ${multi.name.split('.')[0]}; CPU per reply ${one.serverCpuUsPerReq} us in one process, ${m.serverCpuUsPerReq} us in ${multi.name.split('.')[0]}.`,
    );
  }
  writeReport(
    {
      date: new Date().toISOString(),
      machine,
      settings: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, streamsPerConnection: STREAMS, call: 'GetCoin("BTC")' },
      cases: rows,
      transfers,
      watch,
      ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, +v.toFixed(3)])),
      ratioRounds: roundRatios,
      startupMs: startup,
      memory:
        memorySeconds > 0
          ? {
              seconds: memorySeconds,
              case: cs.name,
              rps: Math.round(memoryRun.rps),
              errors: memoryRun.errors,
              samplesMiB: samples.map((s) => +(s / 2 ** 20).toFixed(1)),
              growth,
            }
          : undefined,
      overheadUs: {
        app: overhead.appUs,
        adapterAndChain: overhead.adapterAndChainUs,
        total: overhead.totalUs,
        instantAdapterAndChain: overhead.instantAdapterAndChainUs,
        medians: overhead.medianUs,
      },
      notes,
      targets,
    },
    join(ROOT, 'test/bench/results'),
  );
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
  await admin.end();
  rmSync(work, { recursive: true, force: true });
}
