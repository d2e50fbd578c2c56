// The bench's Transfer cases (issue 22, item 2): cfg rungrpc on PostgreSQL with transfers between
// the same two users in both directions at once (t2) and in one direction (t1), and on SQLite in
// both directions (ts). h2load sends one body over and over, and a transfer needs a new
// idempotency key per call, so these are driven by the money generator (money-load.ts: grpc-js in
// child processes, every status counted, its own CPU reported). Rounds interleave the cases of a
// pair (x y x y ...), like the GetCoin pairs.
import { loadavg } from 'node:os';
import type pg from 'pg';
import { cpuSeconds } from './h2load.ts';
import { runMoneyLoad, type MoneyLoadResult } from './money-load.ts';
import { serverCpuSeconds, type BenchServer } from './servers.ts';

export type TransferLabel = 't2' | 't1' | 'ts';

export interface TransferCase {
  label: TransferLabel;
  name: string;
  server: BenchServer;
  /** Bearer tokens of alice and bob on that server's database. */
  tokens: Record<string, string>;
  pairs: Array<[string, string]>;
  /** PostgreSQL: a connection to read which backends run the ledger's function, to count their CPU. */
  admin?: pg.Client;
}

/** One case's figures, averaged over its rounds. */
export interface TransferRow {
  case: string;
  okPerSecond: number;
  p50ms: number;
  p99ms: number;
  /** Every status the calls got, summed over the rounds. */
  statuses: Record<string, number>;
  serverCores: number;
  serverCpuUsPerOk: number;
  generatorCores: number;
  generatorCpuUsPerCall: number;
  /** PostgreSQL: CPU of the backends that ran crypto_apply_operations, per OK (null on SQLite). */
  pgCpuUsPerOk: number | null;
}

/** The generator's shape: 32 concurrent callers (the 32 client workers) over 2 processes. */
const LOAD = { processes: 2, loops: 32, connections: 2, deadlineMs: 20_000 };
const mean = (v: number[]) => v.reduce((s, n) => s + n, 0) / v.length;

export const BOTH: Array<[string, string]> = [
  ['alice', 'bob'],
  ['bob', 'alice'],
];
export const ONE: Array<[string, string]> = [['alice', 'bob']];

/** CPU seconds so far of each PostgreSQL backend whose last statement called the ledger's function. */
async function ledgerBackends(admin: pg.Client): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE query LIKE '%crypto_apply_operations%' AND pid <> pg_backend_pid()`,
  );
  return new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid)]));
}

/** Runs one case for `seconds`: every call a Transfer of 0.00000001 ETH with a key of its own. */
async function run(
  c: TransferCase,
  seconds: number,
  keyPrefix: string,
): Promise<{ load: MoneyLoadResult; serverCores: number; pgCpuSeconds: number | null }> {
  const backendsBefore = c.admin ? await ledgerBackends(c.admin) : undefined;
  const cpuBefore = serverCpuSeconds(c.server.pid);
  const t0 = performance.now();
  const load = await runMoneyLoad({
    ...LOAD,
    address: `127.0.0.1:${c.server.port}`,
    tokens: c.tokens,
    pairs: c.pairs,
    cycle: ['transfer'],
    symbol: 'ETH',
    amount: '0.00000001',
    seconds,
    keyPrefix,
    record: false,
  });
  // The server's CPU over the whole call, the generator's start-up wait included: a little low.
  const serverCores = (serverCpuSeconds(c.server.pid) - cpuBefore) / ((performance.now() - t0) / 1000);
  let pgCpuSeconds: number | null = null;
  if (c.admin && backendsBefore) {
    pgCpuSeconds = 0;
    for (const [pid, now] of await ledgerBackends(c.admin)) pgCpuSeconds += now - (backendsBefore.get(pid) ?? 0);
  }
  return { load, serverCores, pgCpuSeconds };
}

/**
 * Interleaves each pair's cases for `rounds` rounds of `seconds` (after a warm-up run of each),
 * reporting every run on stderr; returns each case's row and each pair's ratio of OK/s per round.
 */
export async function measureTransfers(
  pairs: Array<[TransferCase, TransferCase]>,
  seconds: number,
  rounds: number,
): Promise<{ rows: TransferRow[]; ratioRounds: Record<string, number[]> }> {
  const runs = new Map<TransferLabel, Array<{ load: MoneyLoadResult; serverCores: number; pgCpuSeconds: number | null }>>();
  const cases = new Map(pairs.flat().map((c) => [c.label, c]));
  for (const c of cases.values()) {
    process.stderr.write(`${c.label}: warming up ${c.name}\n`);
    await run(c, 3, `warm-${c.label}`);
  }
  const ratioRounds: Record<string, number[]> = {};
  for (const [x, y] of pairs) {
    const label = `${x.label}/${y.label}`;
    process.stderr.write(`${label}: interleaving ${x.name} with ${y.name}\n`);
    for (let round = 0; round < rounds; round++) {
      const okps: number[] = [];
      for (const c of [x, y]) {
        const r = await run(c, seconds, `${c.label}-${label.replace('/', '')}-${round}`);
        (runs.get(c.label) ?? runs.set(c.label, []).get(c.label)!).push(r);
        const t = r.load.kinds.transfer!;
        okps.push(t.okPerSecond);
        process.stderr.write(
          `  ${c.name}: ${t.okPerSecond.toFixed(0)} OK/s, p50 ${t.p50ms.toFixed(1)} ms, p99 ${t.p99ms.toFixed(1)} ms, ${JSON.stringify(t.statuses)}, server ${r.serverCores.toFixed(2)} cores, generator ${r.load.generatorCores.toFixed(2)} cores, load ${loadavg()[0]!.toFixed(1)}\n`,
        );
      }
      (ratioRounds[label] ??= []).push(+(okps[0]! / okps[1]!).toFixed(3));
    }
  }
  const rows = [...runs].map(([label, rs]) => {
    const statuses: Record<string, number> = {};
    for (const r of rs) for (const [s, n] of Object.entries(r.load.kinds.transfer!.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
    const okPerSecond = mean(rs.map((r) => r.load.kinds.transfer!.okPerSecond));
    const serverCores = mean(rs.map((r) => r.serverCores));
    const generatorCores = mean(rs.map((r) => r.load.generatorCores));
    const callsPerSecond = mean(rs.map((r) => r.load.kinds.transfer!.perSecond));
    return {
      case: cases.get(label)!.name,
      okPerSecond: Math.round(okPerSecond),
      p50ms: +mean(rs.map((r) => r.load.kinds.transfer!.p50ms)).toFixed(1),
      p99ms: +mean(rs.map((r) => r.load.kinds.transfer!.p99ms)).toFixed(1),
      statuses,
      serverCores: +serverCores.toFixed(2),
      serverCpuUsPerOk: Math.round((serverCores / okPerSecond) * 1e6),
      generatorCores: +generatorCores.toFixed(2),
      generatorCpuUsPerCall: Math.round((generatorCores / callsPerSecond) * 1e6),
      pgCpuUsPerOk:
        rs[0]!.pgCpuSeconds === null
          ? null
          : Math.round(
              (rs.reduce((n, r) => n + r.pgCpuSeconds!, 0) / rs.reduce((n, r) => n + (r.load.kinds.transfer!.statuses.OK ?? 0), 0)) * 1e6,
            ),
    };
  });
  return { rows, ratioRounds };
}
