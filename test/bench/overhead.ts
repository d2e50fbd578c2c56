// cfg's own cost per call, in process: the GetCoin handler cfg builds (call adapter, the
// interceptor chain of cfg.config.ts, the crypto app's method) against the bare function it ends
// in (the query and the converter, what case b runs), with grpc-js and HTTP/2 left out. Batches
// of each alternate, so both see the same machine; the medians' difference is what cfg adds.
// The same adapter and chain around a method that answers at once (no query) give cfg's cost with
// far less noise still. Run by run.ts as a child process (same database env); prints one JSON line.
import { Metadata, type MethodDefinition } from '@grpc/grpc-js';
import { findCoinBySymbol } from '../../apps/crypto/grpc_services/coin-query.ts';
import { coinToProto } from '../../apps/crypto/grpc_services/converters.ts';
import { CryptoService } from '../../apps/crypto/grpc_services/crypto_service.ts';
import { CryptoServiceService } from '../../generated/crypto_service.ts';
import { loadConfig } from '../../src/config/load.ts';
import { closeDb, openDb } from '../../src/db/client.ts';
import { buildInterceptors } from '../../src/interceptors/pipeline.ts';
import { createHandler } from '../../src/transports/grpc/adapter.ts';
import { methodInfo } from '../../src/call/method.ts';
import { bindMethod } from '../../src/call/invoke.ts';

const CALLS = Number(process.env.OVERHEAD_CALLS ?? 4000);
const ROUNDS = Number(process.env.OVERHEAD_ROUNDS ?? 9);

const config = await loadConfig();
const db = await openDb(config);
const chain = await buildInterceptors(config, { db });
const def = CryptoServiceService.getCoin as unknown as MethodDefinition<unknown, unknown>;
const service = new CryptoService(db);
type Callback = (err: unknown, value?: unknown) => void;
const handler = createHandler(bindMethod(methodInfo('getCoin', def), service, chain), new AbortController().signal) as unknown as (
  call: object,
  cb: Callback,
) => void;

// What the adapter reads of a grpc-js unary call.
const metadata = new Metadata();
const call = () => ({
  request: { symbol: 'BTC' },
  metadata,
  cancelled: false,
  getPeer: () => '127.0.0.1:1',
  getDeadline: () => Infinity,
  sendMetadata() {},
  once() {},
  on() {},
});

// A method that answers at once, behind the same adapter and chain, and called bare.
const reply = { success: true };
const instant = { getCoin: async () => reply };
const instantHandler = createHandler(bindMethod(methodInfo('getCoin', def), instant, chain), new AbortController().signal) as unknown as (
  call: object,
  cb: Callback,
) => void;

const variants = {
  bare: () => findCoinBySymbol(db, 'BTC').then((row) => void coinToProto(row!)),
  app: () => service.getCoin({ symbol: 'BTC' }, {} as never).then(() => undefined),
  cfg: () => new Promise<void>((resolve, reject) => handler(call(), (err) => (err ? reject(err as Error) : resolve()))),
  instantBare: () => new Promise<void>((resolve) => void instant.getCoin().then(() => resolve())),
  instantCfg: () => new Promise<void>((resolve, reject) => instantHandler(call(), (err) => (err ? reject(err as Error) : resolve()))),
};
type Name = keyof typeof variants;

async function batch(run: () => Promise<void>, calls = CALLS): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await run();
  return ((performance.now() - t0) * 1000) / calls;
}
/** The instant variants take ~0.1-1 us a call: many more calls per batch. */
const callsOf = (n: Name) => (n.startsWith('instant') ? CALLS * 25 : CALLS);

const names = Object.keys(variants) as Name[];
for (let i = 0; i < 3; i++) for (const n of names) await batch(variants[n], callsOf(n)); // warm-up: JIT, Prisma's caches
const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<Name, number[]>;
for (let r = 0; r < ROUNDS; r++) for (const n of names) samples[n].push(await batch(variants[n], callsOf(n)));
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const us = Object.fromEntries(names.map((n) => [n, +median(samples[n]).toFixed(2)])) as Record<Name, number>;
process.stdout.write(
  `${JSON.stringify({ calls: CALLS, rounds: ROUNDS, interceptors: chain.map((i) => i.name), medianUs: us, appUs: +(us.app - us.bare).toFixed(2), adapterAndChainUs: +(us.cfg - us.app).toFixed(2), totalUs: +(us.cfg - us.bare).toFixed(2), instantAdapterAndChainUs: +(us.instantCfg - us.instantBare).toFixed(2) })}\n`,
);
await closeDb(db);
