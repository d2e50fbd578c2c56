// One process of the WatchPrices fan-out generator (watch.ts starts several): real grpc-js
// clients, `connections` HTTP/2 connections in this process with the subscribers' streams spread
// over them in turn. Every price the publisher writes is the time it sent the update (ms since
// the run's origin, 3 decimals), so each subscriber knows a message's delivery latency on
// arrival, on the same machine's clock, with no table of send times to ship around.
// Talks to its parent over IPC: it says `ready` once every stream has its snapshot (the current
// price, sent first), then counts what it is asked to (WatchCommand) and answers with a WatchWorkerResult.
//   spawned by watch.ts with WATCH_WORKER_SPEC='{...}' and an IPC channel
import { credentials, makeGenericClientConstructor, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { CryptoServiceService, type PriceUpdate } from '../../generated/crypto_service.ts';

export interface WatchWorkerSpec {
  address: string;
  subscribers: number;
  connections: number;
  symbol: string;
  /** The run's time origin (epoch ms, sub-ms precision): a price of p means "sent at origin + p ms". */
  origin: number;
  /** Streams opened at once while subscribing (each waits for its snapshot before the next batch). */
  batch: number;
}

/** From the parent: count messages sent in [from, to) (epoch ms) and received from `from` on. */
export type WatchCommand = { type: 'measure'; from: number; to: number } | { type: 'count' } | { type: 'finish' };

export interface WatchWorkerResult {
  /** Messages sent in the window that arrived (any time until `finish`), and their latency histograms (see bucketOf):
   * from the publisher's send, and from the write (the row's updatedAt, set by Prisma as it builds the UPDATE; ms precision). */
  inWindow: number;
  fromSend: Array<[bucket: number, count: number]>;
  fromWrite: Array<[bucket: number, count: number]>;
  /** Per subscriber, the fewest and most messages sent in the window it received. */
  minPerSubscriber: number;
  maxPerSubscriber: number;
  /** Messages (of any send time) received during the window, and this process's CPU then (seconds). */
  receivedInWindow: number;
  /** Messages received after the snapshots, whatever their send time (warm-up and drain included). */
  receivedAll: number;
  cpuSeconds: number;
  /** Streams that ended or failed before `finish`. */
  streamErrors: Record<string, number>;
}

export type WatchWorkerMessage =
  | { type: 'ready'; subscribeMs: number }
  | { type: 'count'; inWindow: number; received: number }
  | ({ type: 'result' } & WatchWorkerResult);

/** Latency histogram buckets: 1% wide from 0.01 ms (bucket 0 holds everything below). */
const GROWTH = Math.log(1.01);
export const bucketOf = (ms: number): number => (ms <= 0.01 ? 0 : Math.ceil(Math.log(ms / 0.01) / GROWTH));
/** A bucket's upper bound in ms (what a quantile in it is reported as). */
export const bucketMs = (bucket: number): number => 0.01 * Math.exp(bucket * GROWTH);

const now = () => performance.timeOrigin + performance.now();

if (process.env.WATCH_WORKER_SPEC) await main(JSON.parse(process.env.WATCH_WORKER_SPEC) as WatchWorkerSpec);

async function main(spec: WatchWorkerSpec): Promise<void> {
  const send = (m: WatchWorkerMessage) => new Promise<void>((resolve) => process.send!(m, undefined, {}, () => resolve()));
  const Ctor = makeGenericClientConstructor(CryptoServiceService as never, 'WatchLoad');
  // A local subchannel pool per client: each client gets a connection of its own.
  const clients: Client[] = Array.from(
    { length: spec.connections },
    () => new Ctor(spec.address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
  );
  await Promise.all(
    clients.map(
      (c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 30_000, (err) => (err ? reject(err) : resolve()))),
    ),
  );

  let from = Infinity;
  let to = -Infinity;
  let inWindow = 0;
  let receivedInWindow = 0;
  let receivedAll = 0;
  const fromSend = new Map<number, number>();
  const fromWrite = new Map<number, number>();
  const count = (histogram: Map<number, number>, ms: number) => {
    const bucket = bucketOf(ms);
    histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
  };
  const perSubscriber = new Uint32Array(spec.subscribers);
  const streamErrors: Record<string, number> = {};
  const streams: Array<ClientReadableStream<PriceUpdate>> = [];
  let finishing = false;

  const started = now();
  for (let first = 0; first < spec.subscribers; first += spec.batch) {
    const opened: Array<Promise<void>> = [];
    for (let i = first; i < Math.min(spec.subscribers, first + spec.batch); i++) {
      const client = clients[i % clients.length] as unknown as {
        watchPrices(req: { symbols: string[] }): ClientReadableStream<PriceUpdate>;
      };
      const stream = client.watchPrices({ symbols: [spec.symbol] });
      streams.push(stream);
      opened.push(
        new Promise<void>((resolve, reject) => {
          // The first message is the current price: the subscription is live once it arrives.
          stream.once('data', () => {
            stream.on('data', (update: PriceUpdate) => {
              const received = now();
              receivedAll++;
              if (received >= from && received < to) receivedInWindow++;
              const sent = spec.origin + Number(update.priceUsd);
              if (sent < from || sent >= to) return;
              inWindow++;
              perSubscriber[i]!++;
              count(fromSend, received - sent);
              count(fromWrite, received - (update.updatedAt?.getTime() ?? NaN));
            });
            resolve();
          });
          stream.on('error', (err: { code?: number; details?: string }) => {
            if (finishing) return;
            const key = `${err.code}: ${err.details}`;
            streamErrors[key] = (streamErrors[key] ?? 0) + 1;
            reject(new Error(`subscriber ${i}: ${key}`));
          });
        }),
      );
    }
    await Promise.all(opened);
  }
  await send({ type: 'ready', subscribeMs: now() - started });

  let cpuAtFrom: NodeJS.CpuUsage | undefined;
  let cpuSeconds = 0;
  process.on('message', (command: WatchCommand) => {
    if (command.type === 'measure') {
      from = command.from;
      to = command.to;
      // CPU over the window, sampled at its two ends.
      setTimeout(() => (cpuAtFrom = process.cpuUsage()), Math.max(0, from - now()));
      setTimeout(
        () => {
          const used = process.cpuUsage(cpuAtFrom);
          cpuSeconds = (used.user + used.system) / 1e6;
        },
        Math.max(0, to - now()),
      );
    } else if (command.type === 'count') void send({ type: 'count', inWindow, received: receivedAll });
    else {
      finishing = true;
      void send({
        type: 'result',
        inWindow,
        fromSend: [...fromSend],
        fromWrite: [...fromWrite],
        minPerSubscriber: perSubscriber.reduce((m, n) => Math.min(m, n), Infinity),
        maxPerSubscriber: perSubscriber.reduce((m, n) => Math.max(m, n), 0),
        receivedInWindow,
        receivedAll,
        cpuSeconds,
        streamErrors,
      }).then(() => {
        for (const s of streams) s.cancel();
        for (const c of clients) c.close();
        process.exit(0);
      });
    }
  });
}
