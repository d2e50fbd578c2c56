// One process of the money load generator (money-load.ts starts several): grpc-js clients, each
// call's body made anew (a unique idempotency key per call, which h2load cannot do), every status
// counted and every latency kept. Reads its MoneyWorkerSpec from MONEY_WORKER_SPEC, prints one
// JSON line (MoneyWorkerResult) when its time is up.
//   MONEY_WORKER_SPEC='{...}' node --import tsx test/bench/money-worker.ts
import { credentials, makeGenericClientConstructor, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { CryptoServiceService } from '../../generated/crypto_service.ts';

/** What kind of call a loop makes next, in turn. */
export type CallKind = 'transfer' | 'deposit' | 'withdraw' | 'getCoin';

export interface MoneyWorkerSpec {
  address: string;
  /** Bearer tokens by username. */
  tokens: Record<string, string>;
  /** [from, to] pairs: each loop takes them in turn, starting at its own index, so every direction runs at once. */
  pairs: Array<[string, string]>;
  /** The calls each loop makes, in turn (e.g. 7 transfers, a deposit, a withdrawal, a GetCoin). */
  cycle: CallKind[];
  symbol: string;
  amount: string;
  seconds: number;
  /** When the loops start (epoch ms), so that every process runs the same window. */
  startAt: number;
  /** Concurrent loops in this process. */
  loops: number;
  /** Each loop starts a call at most this often (0: back to back, a closed loop). */
  intervalMs?: number;
  /** HTTP/2 connections in this process (the loops share them in turn). */
  connections: number;
  deadlineMs: number;
  keyPrefix: string;
  /** Keep [key, kind, user, to, code] of every money call (for checks of the ledger afterwards). */
  record: boolean;
}

export interface MoneyWorkerResult {
  /** Per call kind: count per status name, and every latency in ms. */
  kinds: Partial<Record<CallKind, { statuses: Record<string, number>; latenciesMs: number[] }>>;
  calls: Array<[key: string, kind: CallKind, user: string, to: string, code: number]>;
  /** CPU this process used while the loops ran (seconds), and for how long they ran. */
  cpuSeconds: number;
  wallSeconds: number;
}

const STATUS_NAMES = Object.fromEntries(
  Object.entries(status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v, k]),
) as Record<number, string>;
const METHODS: Record<CallKind, string> = { transfer: 'transfer', deposit: 'deposit', withdraw: 'withdraw', getCoin: 'getCoin' };
type Unary = (req: unknown, md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null) => void) => void;

const spec = JSON.parse(process.env.MONEY_WORKER_SPEC ?? '{}') as MoneyWorkerSpec;
const Ctor = makeGenericClientConstructor(CryptoServiceService as never, 'MoneyLoad');
// A local subchannel pool per client: each client gets a connection of its own.
const clients: Client[] = Array.from(
  { length: spec.connections },
  () => new Ctor(spec.address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
);
const metadata = Object.fromEntries(
  Object.entries(spec.tokens).map(([user, token]) => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    return [user, md];
  }),
);
const users = Object.keys(spec.tokens);
const result: MoneyWorkerResult = { kinds: {}, calls: [], cpuSeconds: 0, wallSeconds: 0 };

function call(client: Client, kind: CallKind, user: string, request: unknown): Promise<number> {
  const fn = (client as unknown as Record<string, Unary>)[METHODS[kind]]!.bind(client);
  return new Promise((resolve) =>
    fn(request, metadata[user]!, { deadline: new Date(Date.now() + spec.deadlineMs) }, (err) => resolve(err ? err.code : status.OK)),
  );
}

async function loop(index: number, until: number): Promise<void> {
  const client = clients[index % clients.length]!;
  const interval = spec.intervalMs ?? 0;
  // Loops with a pace start spread over one interval, not all at once.
  let next = performance.now() + (interval * index) / spec.loops;
  for (let n = 0; performance.now() < until; n++) {
    if (interval > 0) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      next += interval;
    }
    const kind = spec.cycle[(index + n) % spec.cycle.length]!;
    const key = `${spec.keyPrefix}-${process.pid}-${index}-${n}`;
    let user = users[(index + n) % users.length]!;
    let to = '';
    let request: unknown;
    if (kind === 'transfer') {
      [user, to] = spec.pairs[(index + n) % spec.pairs.length]!;
      request = { toUsername: to, symbol: spec.symbol, amount: spec.amount, idempotencyKey: key };
    } else if (kind === 'getCoin') request = { symbol: spec.symbol };
    else request = { symbol: spec.symbol, amount: spec.amount, idempotencyKey: key };
    const started = performance.now();
    const code = await call(client, kind, user, request);
    const stats = (result.kinds[kind] ??= { statuses: {}, latenciesMs: [] });
    stats.latenciesMs.push(performance.now() - started);
    const name = STATUS_NAMES[code] ?? String(code);
    stats.statuses[name] = (stats.statuses[name] ?? 0) + 1;
    if (spec.record && kind !== 'getCoin') result.calls.push([key, kind, user, to, code]);
  }
}

// Connect first, so that the run measures calls, not connection set-up.
await Promise.all(
  clients.map((c) => new Promise<void>((resolve, reject) => c.waitForReady(Date.now() + 10_000, (err) => (err ? reject(err) : resolve())))),
);
await new Promise((resolve) => setTimeout(resolve, Math.max(0, spec.startAt - Date.now())));
const cpu = process.cpuUsage();
const started = performance.now();
await Promise.all(Array.from({ length: spec.loops }, (_, i) => loop(i, started + spec.seconds * 1000)));
const used = process.cpuUsage(cpu);
result.cpuSeconds = (used.user + used.system) / 1e6;
result.wallSeconds = (performance.now() - started) / 1000;
for (const c of clients) c.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
