// The money load generator: several child processes (money-worker.ts), each with grpc-js
// clients running concurrent loops of Transfer, Deposit, Withdraw and GetCoin, every body made
// anew (unique idempotency keys). Used by the bench's Transfer cases and by the money load test.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import type { CallKind, MoneyWorkerResult, MoneyWorkerSpec } from './money-worker.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface MoneyLoadSpec extends Omit<MoneyWorkerSpec, 'loops' | 'startAt'> {
  /** Child processes (the load's CPU is spread over them; each reports its own). */
  processes: number;
  /** Concurrent loops in all, spread over the processes. */
  loops: number;
  /**
   * The child processes' scheduling priority (nice: -20 highest to 19 lowest; default: this
   * process's). On one machine a load generator competes with the server it loads for the same
   * cores; a lower priority makes it take what the server leaves, as clients on machines of their
   * own would. A priority above 0 needs the right to raise one (root or CAP_SYS_NICE).
   */
  priority?: number;
}

export interface KindStats {
  count: number;
  statuses: Record<string, number>;
  perSecond: number;
  /** OK replies per second. */
  okPerSecond: number;
  p50ms: number;
  p99ms: number;
  maxMs: number;
}

export interface MoneyLoadResult {
  seconds: number;
  kinds: Partial<Record<CallKind, KindStats>>;
  calls: MoneyWorkerResult['calls'];
  /** CPU the generator's processes used during the run, in cores. */
  generatorCores: number;
  /** Why the asked priority could not be set (it ran at the inherited one), when it could not. */
  priorityRefused?: string;
}

/** The p-th quantile of sorted values (NaN when empty). */
export function quantile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : NaN;
}

function runWorker(spec: MoneyWorkerSpec, priority: number | undefined, refused: (why: string) => void): Promise<MoneyWorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/money-worker.ts'], {
      cwd: ROOT,
      env: { ...process.env, MONEY_WORKER_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (priority !== undefined && child.pid !== undefined) {
      try {
        setPriority(child.pid, priority);
      } catch (err) {
        refused(`nice ${priority}: ${(err as Error).message}`);
      }
    }
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`money worker exited ${code}: ${err.slice(-2000)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as MoneyWorkerResult);
      } catch (e) {
        reject(new Error(`money worker printed no result: ${(e as Error).message}\n${out.slice(-500)}\n${err.slice(-2000)}`));
      }
    });
  });
}

/** Runs the load for spec.seconds (after the workers have connected) and sums what each process saw. */
export async function runMoneyLoad(spec: MoneyLoadSpec): Promise<MoneyLoadResult> {
  const { processes, loops, priority, ...common } = spec;
  let priorityRefused: string | undefined;
  // Workers start together, a moment from now: tsx and grpc-js take a second or two to load.
  const startAt = Date.now() + 3_000;
  const shares = Array.from({ length: processes }, (_, i) => Math.floor(loops / processes) + (i < loops % processes ? 1 : 0)).filter(
    (n) => n > 0,
  );
  const results = await Promise.all(
    shares.map((n) => runWorker({ ...common, loops: n, startAt }, priority, (why) => (priorityRefused = why))),
  );
  const seconds = Math.max(...results.map((r) => r.wallSeconds));
  const kinds: MoneyLoadResult['kinds'] = {};
  for (const kind of ['transfer', 'deposit', 'withdraw', 'getCoin'] as CallKind[]) {
    const parts = results.map((r) => r.kinds[kind]).filter((k) => k !== undefined);
    if (parts.length === 0) continue;
    const latencies = parts.flatMap((p) => p.latenciesMs).sort((a, b) => a - b);
    const statuses: Record<string, number> = {};
    for (const p of parts) for (const [name, n] of Object.entries(p.statuses)) statuses[name] = (statuses[name] ?? 0) + n;
    kinds[kind] = {
      count: latencies.length,
      statuses,
      perSecond: latencies.length / seconds,
      okPerSecond: (statuses.OK ?? 0) / seconds,
      p50ms: quantile(latencies, 0.5),
      p99ms: quantile(latencies, 0.99),
      maxMs: latencies.at(-1) ?? NaN,
    };
  }
  return {
    seconds,
    kinds,
    calls: results.flatMap((r) => r.calls),
    generatorCores: results.reduce((s, r) => s + r.cpuSeconds, 0) / seconds,
    ...(priorityRefused ? { priorityRefused } : {}),
  };
}

/** One line per call kind: rate, OK/s, p50/p99 and every status's count. */
export function describeLoad(result: MoneyLoadResult): string {
  return Object.entries(result.kinds)
    .map(
      ([kind, k]) =>
        `${kind}: ${k.count} calls, ${k.okPerSecond.toFixed(0)} OK/s, p50 ${k.p50ms.toFixed(1)} ms, p99 ${k.p99ms.toFixed(1)} ms, max ${k.maxMs.toFixed(0)} ms, ` +
        Object.entries(k.statuses)
          .map(([s, n]) => `${s} ${n}`)
          .join(', '),
    )
    .join('\n');
}
