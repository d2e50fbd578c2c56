// The bench's WatchPrices fan-out cases (issue 22, item 3): N subscribers (real grpc-js
// clients in child processes, watch-worker.ts) on one `cfg rungrpc` process (w1) or on
// `--processes 2` (w2), while a publisher in this process writes a price with UpdateCoinPrice
// every `intervalMs`. Each price is its own send time, so every subscriber measures the delivery
// latency of what it receives (from the publisher's call, the database commit included, to the
// subscriber's `data` event). Reports messages delivered per second, p50/p99 (a message that never
// arrived counts as infinitely late), the server's CPU and its RSS per idle subscriber (measured
// after subscribing, before any update), and the generator's own CPU.
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { CryptoServiceService, type PriceUpdate } from '../../generated/crypto_service.ts';
import { quantile } from './money-load.ts';
import type { Target } from './report.ts';
import { ROOT, rss, serverCpuSeconds, startProcess, type BenchServer } from './servers.ts';
import { bucketMs, type WatchCommand, type WatchWorkerMessage, type WatchWorkerResult, type WatchWorkerSpec } from './watch-worker.ts';

/** w0: bare grpc-js from memory (bare-server.ts, the floor); w1: cfg rungrpc, one process; w2: --processes 2. */
export type WatchLabel = 'w0' | 'w1' | 'w2';
export const WATCH_LABELS: WatchLabel[] = ['w0', 'w1', 'w2'];

export interface WatchOptions {
  /** Subscriber counts to measure each case at. */
  subscribers: number[];
  /** Seconds of updates measured, after `warmSeconds` of updates not counted. */
  seconds: number;
  warmSeconds: number;
  intervalMs: number;
  /** Generator processes the subscribers are spread over. */
  workerProcesses: number;
  /** Streams per HTTP/2 connection (each generator process opens as many connections as its share needs). */
  streamsPerConnection: number;
  symbol: string;
}

export const watchOptionsFromEnv = (env: NodeJS.ProcessEnv = process.env): WatchOptions => ({
  subscribers: (env.BENCH_WATCH_SUBSCRIBERS ?? '1000,10000').split(',').map(Number),
  seconds: Number(env.BENCH_WATCH_SECONDS ?? 10),
  warmSeconds: Number(env.BENCH_WATCH_WARM_SECONDS ?? 3),
  intervalMs: Number(env.BENCH_WATCH_INTERVAL_MS ?? 10),
  workerProcesses: Number(env.BENCH_WATCH_WORKERS ?? 2),
  streamsPerConnection: Number(env.BENCH_WATCH_STREAMS ?? 100),
  symbol: 'BTC',
});

export interface WatchRow {
  case: string;
  subscribers: number;
  /** HTTP/2 connections the subscribers used, over how many generator processes. */
  connections: number;
  workerProcesses: number;
  /** Updates published per second during the window, and the messages that makes for every subscriber. */
  updatesPerSecond: number;
  /** Of those, UpdateCoinPrice calls answered OK per second (per server process): below updatesPerSecond when writes cannot keep up. */
  committedPerSecond: number;
  expectedPerSecond: number;
  /** Messages received per second during the window (any send time). */
  deliveredPerSecond: number;
  /** Of the messages sent in the window, the share that arrived by the end of the drain. */
  deliveredShare: number;
  /** Per subscriber, fewest and most of the window's updates received (each should get every one once). */
  perSubscriber: string;
  /**
   * Delivery latency from the write (the row's updatedAt, set by Prisma as it builds the UPDATE, so
   * the commit is included; ms precision) to the subscriber's `data` event; null when more than
   * 50% / 1% / any of the window's messages never arrived.
   */
  p50ms: number | null;
  p99ms: number | null;
  maxMs: number | null;
  /** The same from the publisher's send of UpdateCoinPrice: adds the wait for the write when writes queue. */
  sendP50ms: number | null;
  sendP99ms: number | null;
  /** UpdateCoinPrice's own latency at the publisher (the write and commit). */
  publishP50ms: number;
  publishErrors: number;
  serverCores: number;
  serverCpuUsPerMsg: number;
  /**
   * What bounds it, in CPU (which the machine's load hardly moves): one UpdateCoinPrice's server
   * CPU with nobody watching; the server's CPU per message delivered over the whole run (warm-up,
   * window and drain), those writes taken off (null when they account for all of it); and the
   * messages per second one core could push at that cost.
   */
  writeCpuUs: number;
  fanoutCpuUsPerMsg: number | null;
  fanoutMsgsPerCore: number | null;
  /** The server's whole CPU over the run (writes included) per message delivered: an upper bound of the fan-out's. */
  runCpuUsPerMsg: number;
  /** The subscriber processes' CPU during the window, and the publisher's (this process). */
  generatorCores: number;
  publisherCores: number;
  /** Server RSS before subscribing, after (idle), and at the end of the window; per idle subscriber. */
  serverRssMiB: string;
  rssPerIdleSubscriberKB: number;
  subscribeSeconds: number;
  streamErrors: string;
  loadAverage: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const say = (line: string) => process.stderr.write(`${line}\n`);

/** A generator process and the messages it sends back, taken in order. */
class Worker {
  readonly child: ChildProcess;
  private readonly waiting: Array<{ type: WatchWorkerMessage['type']; resolve: (m: WatchWorkerMessage) => void }> = [];
  private stderr = '';

  constructor(spec: WatchWorkerSpec) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/watch-worker.ts'], {
      cwd: ROOT,
      env: { ...process.env, WATCH_WORKER_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr = (this.stderr + s).slice(-4000)));
    this.child.on('message', (m: WatchWorkerMessage) => {
      const i = this.waiting.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(m);
    });
  }

  next<T extends WatchWorkerMessage['type']>(type: T): Promise<Extract<WatchWorkerMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`watch worker exited ${code} waiting for "${type}": ${this.stderr}`));
      this.child.once('exit', onExit);
      this.waiting.push({
        type,
        resolve: (m) => {
          this.child.off('exit', onExit);
          resolve(m as Extract<WatchWorkerMessage, { type: T }>);
        },
      });
    });
  }

  send(command: WatchCommand): void {
    this.child.send(command);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

type UpdatePrice = (
  req: { symbol: string; priceUsd: string; change24hPercent: string },
  md: Metadata,
  opts: { deadline: number },
  cb: (err: ServiceError | null) => void,
) => void;

/** One connection per server process (the cluster hands connections out in turn), authorized as staff. */
function publishers(address: string, count: number, staffToken: string): { clients: Client[]; md: Metadata } {
  const Ctor = makeGenericClientConstructor(CryptoServiceService as never, 'WatchPublisher');
  const md = new Metadata();
  md.set('authorization', `Bearer ${staffToken}`);
  return {
    clients: Array.from({ length: count }, () => new Ctor(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })),
    md,
  };
}

/** Writes one price; a call not answered by `deadline` (epoch ms) counts as a publish error, so that a server that cannot keep up still ends the run. */
const publish = (client: Client, md: Metadata, symbol: string, priceUsd: string, deadline = Date.now() + 30_000) =>
  new Promise<ServiceError | null>((resolve) =>
    (client as unknown as { updateCoinPrice: UpdatePrice }).updateCoinPrice(
      { symbol, priceUsd, change24hPercent: '' },
      md,
      { deadline },
      resolve,
    ),
  );

/**
 * Writes a price every o.intervalMs from `start` until `end` (epoch ms) on a fixed schedule (a late
 * call does not push the next ones back), the same price through every client: with several server
 * processes each one's bus reaches its own subscribers only. Each price is its send time (ms since
 * `origin`). Resolves once every call has been answered (or passed its deadline, 20 s after `end`).
 */
async function schedule(
  clients: Client[],
  md: Metadata,
  o: WatchOptions,
  origin: number,
  start: number,
  end: number,
  onAnswer: (sent: number, err: ServiceError | null) => void,
): Promise<{ sentAt: number[]; ok: number; errors: number }> {
  const sentAt: number[] = [];
  let ok = 0;
  let errors = 0;
  const calls: Array<Promise<void>> = [];
  for (let k = 0; ; k++) {
    await sleep(start + k * o.intervalMs - now());
    const sent = now();
    if (sent >= end) break;
    sentAt.push(sent);
    const price = (sent - origin).toFixed(3);
    for (const c of clients)
      calls.push(
        publish(c, md, o.symbol, price, Date.now() + (end - sent) + 20_000).then((err) => {
          if (err) errors++;
          else ok++;
          onAnswer(sent, err);
        }),
      );
  }
  await Promise.all(calls);
  return { sentAt, ok, errors };
}

/** The latency at quantile p of `expected` messages, those that never arrived counting as infinitely late. */
function latencyQuantile(histogram: Map<number, number>, expected: number, p: number): number | null {
  const rank = Math.max(1, Math.ceil(expected * p));
  let seen = 0;
  for (const bucket of [...histogram.keys()].sort((a, b) => a - b)) {
    seen += histogram.get(bucket)!;
    if (seen >= rank) return +bucketMs(bucket).toFixed(2);
  }
  return null;
}

/** Measures one server already started with `serverProcesses` processes, at one subscriber count. */
export async function runWatch(
  server: BenchServer,
  serverProcesses: number,
  staffToken: string,
  subscribers: number,
  o: WatchOptions,
  name: string,
): Promise<WatchRow> {
  const address = `127.0.0.1:${server.port}`;
  const { clients, md } = publishers(address, serverProcesses, staffToken);
  const workers: Worker[] = [];
  try {
    await Promise.all(
      clients.map(
        (c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 30_000, (err) => (err ? reject(err) : resolve()))),
      ),
    );
    // Warm each server process's write path and WatchPrices once, so that the RSS baseline has them loaded.
    const origin = now();
    for (let i = 0; i < 50; i++) for (const c of clients) await publish(c, md, o.symbol, (now() - origin).toFixed(3));
    // What one UpdateCoinPrice costs the server with nobody watching, at the run's pace (at least
    // 100 writes: every 20 ms at most) (CPU, which the machine's load moves less than wall time):
    // taken off the run's CPU to leave the fan-out's.
    const cpuBeforeWrites = serverCpuSeconds(server.pid);
    const calibrate = await schedule(clients, md, { ...o, intervalMs: Math.min(o.intervalMs, 20) }, origin, now(), now() + 2000, () => {});
    const writeCpuUs = calibrate.ok > 0 ? ((serverCpuSeconds(server.pid) - cpuBeforeWrites) / calibrate.ok) * 1e6 : NaN;
    await Promise.all(
      clients.map(async (c) => {
        const stream = (c as unknown as { watchPrices(r: { symbols: string[] }): ClientReadableStream<PriceUpdate> }).watchPrices({
          symbols: [o.symbol],
        });
        await new Promise((resolve) => stream.once('data', resolve));
        stream.on('error', () => {});
        stream.cancel();
      }),
    );
    await sleep(1000);
    const rssBefore = rss(server.pid);

    const shares = Array.from(
      { length: o.workerProcesses },
      (_, i) => Math.floor(subscribers / o.workerProcesses) + (i < subscribers % o.workerProcesses ? 1 : 0),
    ).filter((n) => n > 0);
    const connections = shares.map((n) => Math.ceil(n / o.streamsPerConnection));
    say(
      `  ${name}: ${subscribers} subscribers over ${connections.reduce((a, b) => a + b, 0)} connections in ${shares.length} processes, subscribing`,
    );
    const t0 = performance.now();
    for (const [i, n] of shares.entries())
      workers.push(new Worker({ address, subscribers: n, connections: connections[i]!, symbol: o.symbol, origin, batch: 500 }));
    await Promise.all(workers.map((w) => w.next('ready')));
    const subscribeSeconds = (performance.now() - t0) / 1000;
    await sleep(2000);
    const rssIdle = rss(server.pid);
    say(
      `  ${name}: subscribed in ${subscribeSeconds.toFixed(1)} s; server RSS ${(rssBefore / 2 ** 20).toFixed(1)} -> ${(rssIdle / 2 ** 20).toFixed(1)} MiB idle`,
    );

    const start = now() + 200;
    const runCpuFrom = serverCpuSeconds(server.pid);
    const from = start + o.warmSeconds * 1000;
    const to = from + o.seconds * 1000;
    for (const w of workers) w.send({ type: 'measure', from, to });
    const publishMs: number[] = [];
    let serverCpuFrom = 0;
    let serverCores = 0;
    let publisherCpu: NodeJS.CpuUsage | undefined;
    let publisherCores = 0;
    let rssEnd = 0;
    const windowTimers = [
      setTimeout(() => {
        serverCpuFrom = serverCpuSeconds(server.pid);
        publisherCpu = process.cpuUsage();
      }, from - now()),
      setTimeout(() => {
        serverCores = (serverCpuSeconds(server.pid) - serverCpuFrom) / o.seconds;
        const used = process.cpuUsage(publisherCpu);
        publisherCores = (used.user + used.system) / 1e6 / o.seconds;
        rssEnd = rss(server.pid);
      }, to - now()),
    ];
    const published = await schedule(clients, md, o, origin, start, to, (sent, err) => {
      if (!err && sent >= from) publishMs.push(now() - sent);
    });
    const ticks = published.sentAt.filter((t) => t >= from).length;
    const { ok: publishOk, errors: publishErrors } = published;
    await sleep(Math.max(0, to + 50 - now()));
    void windowTimers;

    // Drain: wait while messages still arrive (a backlog delivers the window's updates late), until
    // every one of the window's has arrived, nothing arrived for 2 s, or 30 s have passed.
    const expected = ticks * subscribers;
    let arrived = -1;
    for (let quiet = 0, waited = 0; waited < 30_000 && quiet < 2000; waited += 500) {
      const counts = await Promise.all(
        workers.map((w) => {
          w.send({ type: 'count' });
          return w.next('count');
        }),
      );
      if (counts.reduce((s, c) => s + c.inWindow, 0) >= expected) break;
      const total = counts.reduce((s, c) => s + c.received, 0);
      quiet = total === arrived ? quiet + 500 : 0;
      arrived = total;
      await sleep(500);
    }
    const runCpu = serverCpuSeconds(server.pid) - runCpuFrom;
    const results: WatchWorkerResult[] = await Promise.all(
      workers.map((w) => {
        w.send({ type: 'finish' });
        return w.next('result');
      }),
    );
    const receivedAll = results.reduce((s, r) => s + r.receivedAll, 0);
    const fanoutCpuUsPerMsg = ((runCpu - (publishOk * writeCpuUs) / 1e6) / receivedAll) * 1e6;

    const merged = (pick: (r: WatchWorkerResult) => Array<[number, number]>) => {
      const histogram = new Map<number, number>();
      for (const r of results) for (const [bucket, n] of pick(r)) histogram.set(bucket, (histogram.get(bucket) ?? 0) + n);
      return histogram;
    };
    const fromWrite = merged((r) => r.fromWrite);
    const fromSend = merged((r) => r.fromSend);
    const inWindow = results.reduce((s, r) => s + r.inWindow, 0);
    const received = results.reduce((s, r) => s + r.receivedInWindow, 0);
    const streamErrors: Record<string, number> = {};
    for (const r of results) for (const [k, n] of Object.entries(r.streamErrors)) streamErrors[k] = (streamErrors[k] ?? 0) + n;
    const deliveredPerSecond = received / o.seconds;
    publishMs.sort((a, b) => a - b);
    return {
      case: name,
      subscribers,
      connections: connections.reduce((a, b) => a + b, 0),
      workerProcesses: shares.length,
      updatesPerSecond: +(ticks / o.seconds).toFixed(1),
      committedPerSecond: +(publishMs.length / clients.length / o.seconds).toFixed(1),
      expectedPerSecond: Math.round(expected / o.seconds),
      deliveredPerSecond: Math.round(deliveredPerSecond),
      deliveredShare: +(inWindow / expected).toFixed(4),
      perSubscriber: `${Math.min(...results.map((r) => r.minPerSubscriber))}-${Math.max(...results.map((r) => r.maxPerSubscriber))} of ${ticks}`,
      p50ms: latencyQuantile(fromWrite, expected, 0.5),
      p99ms: latencyQuantile(fromWrite, expected, 0.99),
      maxMs: inWindow === expected ? latencyQuantile(fromWrite, expected, 1) : null,
      sendP50ms: latencyQuantile(fromSend, expected, 0.5),
      sendP99ms: latencyQuantile(fromSend, expected, 0.99),
      publishP50ms: +quantile(publishMs, 0.5).toFixed(2),
      publishErrors,
      serverCores: +serverCores.toFixed(2),
      serverCpuUsPerMsg: +((serverCores / deliveredPerSecond) * 1e6).toFixed(2),
      writeCpuUs: Math.round(writeCpuUs),
      // Not separable (null) when the writes, timed alone, account for all of the run's CPU.
      fanoutCpuUsPerMsg: fanoutCpuUsPerMsg > 0 ? +fanoutCpuUsPerMsg.toFixed(2) : null,
      fanoutMsgsPerCore: fanoutCpuUsPerMsg > 0 ? Math.round(1e6 / fanoutCpuUsPerMsg) : null,
      runCpuUsPerMsg: +((runCpu / receivedAll) * 1e6).toFixed(2),
      generatorCores: +(results.reduce((s, r) => s + r.cpuSeconds, 0) / o.seconds).toFixed(2),
      publisherCores: +publisherCores.toFixed(2),
      serverRssMiB: [rssBefore, rssIdle, rssEnd].map((b) => (b / 2 ** 20).toFixed(1)).join(' -> '),
      rssPerIdleSubscriberKB: +((rssIdle - rssBefore) / subscribers / 1000).toFixed(1),
      subscribeSeconds: +subscribeSeconds.toFixed(1),
      streamErrors:
        Object.entries(streamErrors)
          .map(([k, n]) => `${k} x${n}`)
          .join('; ') || 'none',
      loadAverage: +loadavg()[0]!.toFixed(2),
    };
  } finally {
    for (const w of workers) w.kill();
    for (const c of clients) c.close();
  }
}

/**
 * Runs each case (w1: one process, w2: --processes 2) at each subscriber count, on a server of its
 * own started for that run (so each RSS baseline is a fresh process), and says each row on stderr.
 */
export async function measureWatch(labels: WatchLabel[], env: NodeJS.ProcessEnv, staffToken: string, o: WatchOptions): Promise<WatchRow[]> {
  const rows: WatchRow[] = [];
  for (const label of labels) {
    const processes = label === 'w2' ? 2 : 1;
    const what = { w0: 'bare grpc-js from memory', w1: 'one process', w2: '--processes 2' }[label];
    for (const n of o.subscribers) {
      const name = `${label}. WatchPrices, ${what}, ${n} subscribers, an update every ${o.intervalMs} ms`;
      say(
        `${label}: starting ${label === 'w0' ? 'bare grpc-js' : 'cfg rungrpc'}${processes > 1 ? ' --processes 2' : ''} for ${n} subscribers`,
      );
      // BENCH_WATCH_CPU_PROF=dir: the server writes a V8 CPU profile there when it stops.
      const prof = process.env.BENCH_WATCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_WATCH_CPU_PROF] : [];
      const args =
        label === 'w0'
          ? ['--import', 'tsx', 'test/bench/bare-server.ts', 'memory']
          : ['bin/cfg.js', 'rungrpc', '--port', '0', ...(processes > 1 ? ['--processes', '2'] : [])];
      const server = await startProcess(name, [...prof, ...args], env);
      try {
        const row = await runWatch(server, processes, staffToken, n, o, name);
        rows.push(row);
        say(
          `  ${name}: ${row.deliveredPerSecond} msgs/s delivered of ${row.expectedPerSecond} due, ${(row.deliveredShare * 100).toFixed(2)}% of the window's arrived, ` +
            `from the write p50 ${row.p50ms ?? 'lost'} ms, p99 ${row.p99ms ?? 'lost'} ms (from the publisher's send p50 ${row.sendP50ms ?? 'lost'}, p99 ${row.sendP99ms ?? 'lost'}; UpdateCoinPrice p50 ${row.publishP50ms} ms), server ${row.serverCores} cores (${row.serverCpuUsPerMsg} us/msg; over the whole run ${row.fanoutCpuUsPerMsg} us per message delivered besides ${row.writeCpuUs} us per write, ~${row.fanoutMsgsPerCore} msgs/s per core), generator ${row.generatorCores} cores, ` +
            `RSS ${row.serverRssMiB} MiB (${row.rssPerIdleSubscriberKB} KB per idle subscriber), load ${row.loadAverage}`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  return rows;
}

/**
 * Issue 22's targets: 10,000 subscribers on one process, an update every 10 ms, p99 delivery under
 * 100 ms (messages that never arrived count as infinitely late) and RSS per idle subscriber under
 * 20 KB (1,000 bytes). Only for a w1 row at 10,000 subscribers and a 10 ms interval.
 */
export function watchTargets(rows: WatchRow[], intervalMs = watchOptionsFromEnv().intervalMs): Record<string, Target> {
  const row = rows.find((r) => r.case.startsWith('w1.') && r.subscribers === 10_000);
  if (!row || intervalMs !== 10) return {};
  const p99 = row.p99ms ?? Infinity;
  return {
    'w1 WatchPrices p99 delivery ms (10,000 subscribers, an update every 10 ms)': { want: '< 100', got: p99, met: p99 < 100 },
    'w1 WatchPrices RSS per idle subscriber KB (10,000 subscribers)': {
      want: '< 20',
      got: row.rssPerIdleSubscriberKB,
      met: row.rssPerIdleSubscriberKB < 20,
    },
  };
}

/** What bounds each row: the cores its message rate needs at the measured CPU per message and per write. */
export function watchNotes(rows: WatchRow[]): string[] {
  return rows.map((r) => {
    const label = r.case.split('.')[0];
    const writes = r.updatesPerSecond * (label === 'w2' ? 2 : 1);
    const perMsg = r.fanoutCpuUsPerMsg ?? r.runCpuUsPerMsg;
    const cores = (r.expectedPerSecond * (r.fanoutCpuUsPerMsg ?? 0) + writes * r.writeCpuUs) / 1e6;
    return (
      `${label} ${r.subscribers} subscribers: ${r.expectedPerSecond} messages/s due (subscribers x ${r.updatesPerSecond} updates/s) and ${writes} writes/s; ` +
      `${r.fanoutCpuUsPerMsg === null ? `the fan-out's CPU could not be told from the writes' (${r.runCpuUsPerMsg} us per message, writes included)` : `at ${perMsg} us of server CPU per message (~${r.fanoutMsgsPerCore} msgs/s per core)`} ` +
      `and ${r.writeCpuUs} us per UpdateCoinPrice, that takes ~${cores.toFixed(1)} cores of server CPU${r.fanoutCpuUsPerMsg === null ? ' or more' : ''}; ` +
      `the server got ${r.serverCores} during the window, load average ${r.loadAverage}.`
    );
  });
}
