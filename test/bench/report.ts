// The bench's output: tables on stdout, test/bench/results/latest.json and latest.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TransferRow } from './transfer.ts';
import type { WatchRow } from './watch.ts';

export interface CaseRow {
  case: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  requests: number;
  peakRssMiB: number;
  /** CPU the server (and its workers) used during the runs, in cores. */
  serverCores: number;
  /** Server CPU per reply, in microseconds. */
  serverCpuUsPerReq: number;
  /** CPU h2load used, in cores. */
  h2loadCores: number;
}

export interface Target {
  want: string;
  got: number;
  met: boolean;
}

export interface BenchReport {
  date: string;
  machine: { cpus: number; cpu: string | undefined; memGiB: number; node: string; loadAverageAtStart: number; loadAverageAtEnd: number };
  settings: { seconds: number; rounds: number; connections: number; streamsPerConnection: number; call: string };
  cases: CaseRow[];
  /** The Transfer cases (transfer.ts), driven by the money generator instead of h2load. */
  transfers: TransferRow[];
  /** The WatchPrices fan-out cases (watch.ts). */
  watch: WatchRow[];
  ratios: Record<string, number>;
  /** Each round's ratio (two adjacent runs). */
  ratioRounds: Record<string, number[]>;
  startupMs: { runs: number; min: number; median: number; max: number; cpuMedian: number; firstReplyMedian: number };
  /** Absent when BENCH_MEMORY_SECONDS=0. */
  memory?: { seconds: number; case: string; rps: number; errors: number; samplesMiB: number[]; growth: number };
  /** cfg's own code per call, in process (overhead.ts). */
  overheadUs: { app: number; adapterAndChain: number; total: number; instantAdapterAndChain: number; medians: Record<string, number> };
  notes: string[];
  targets: Record<string, Target>;
}

function heading(r: BenchReport): string {
  const m = r.machine;
  const s = r.settings;
  return `cfg bench, ${r.date}: ${m.cpus} cores (${m.cpu}), ${m.memGiB} GiB, Node ${m.node}, load average ${m.loadAverageAtStart} at start and ${m.loadAverageAtEnd} at end; ${s.call}, ${s.connections} connections x ${s.streamsPerConnection} streams, ${s.seconds} s per run, ${s.rounds} rounds per pair`;
}

function lines(r: BenchReport): string[] {
  return [
    `start-up to SERVING (stubs generated), ${r.startupMs.runs} runs: median ${r.startupMs.median} ms (min ${r.startupMs.min}, max ${r.startupMs.max}), CPU ${r.startupMs.cpuMedian} ms; first GetCoin answered after a median ${r.startupMs.firstReplyMedian} ms`,
    ...(r.memory
      ? [
          `RSS of ${r.memory.case} over ${r.memory.seconds} s at full load (${r.memory.rps} req/s, ${r.memory.errors} errors): ${r.memory.samplesMiB.join(' -> ')} MiB; growth x${r.memory.growth} (mean of the second half of the samples after the first 10 s over the first half)`,
        ]
      : []),
    'serverCores / h2loadCores: the CPU each used during the runs (2 = both cores); the rest of the machine may be busy with other work.',
    ...r.notes.map((n) => `note: ${n}`),
  ];
}

function markdownTable(rows: Array<Record<string, unknown>>): string {
  const keys = Object.keys(rows[0] ?? {});
  return [
    `| ${keys.join(' | ')} |`,
    `| ${keys.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${keys.map((k) => String(row[k])).join(' | ')} |`),
  ].join('\n');
}

const transferRows = (r: BenchReport) =>
  r.transfers.map((t) => ({
    ...t,
    statuses: Object.entries(t.statuses)
      .map(([s, n]) => `${s} ${n}`)
      .join(', '),
  }));
const targetRows = (r: BenchReport) =>
  Object.entries(r.targets).map(([name, t]) => ({ target: name, want: t.want, got: t.got, met: t.met ? 'yes' : 'NO' }));
const ratioRows = (r: BenchReport) =>
  Object.entries(r.ratios).map(([ratio, value]) => ({ ratio, value, rounds: (r.ratioRounds[ratio] ?? []).join(' ') }));

/** Prints the report and writes it under `dir` as latest.json and latest.md. */
export function writeReport(r: BenchReport, dir: string): void {
  console.log(`\n${heading(r)}\n`);
  if (r.cases.length > 0) console.table(r.cases);
  if (r.transfers.length > 0) console.table(transferRows(r));
  if (r.watch.length > 0) console.table(r.watch);
  console.table(ratioRows(r));
  for (const line of lines(r)) console.log(line);
  console.table(targetRows(r));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(r, null, 2)}\n`);
  const md = [
    `# ${heading(r)}`,
    markdownTable(r.cases as unknown as Array<Record<string, unknown>>),
    ...(r.transfers.length > 0
      ? ['Transfer (money generator, 32 callers over 2 processes, a new idempotency key per call):', markdownTable(transferRows(r))]
      : []),
    ...(r.watch.length > 0
      ? [
          'WatchPrices fan-out (grpc-js subscribers in child processes; latency from the write to the subscriber):',
          markdownTable(r.watch as unknown as Array<Record<string, unknown>>),
        ]
      : []),
    'Ratios (interleaved in the same run):',
    markdownTable(ratioRows(r)),
    ...lines(r),
    'Targets:',
    markdownTable(targetRows(r)),
  ];
  writeFileSync(join(dir, 'latest.md'), `${md.join('\n\n')}\n`);
  console.log(`written: ${join(dir, 'latest.json')} and latest.md`);
}
