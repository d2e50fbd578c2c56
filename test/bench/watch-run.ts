// The WatchPrices fan-out cases (watch.ts) on their own, without the rest of `npm run bench`
// (and without h2load): a fresh SQLite file, migrated and seeded, then w0, w1 and w2 at each count.
//   node --import tsx test/bench/watch-run.ts            (npm run bench:watch)
//   BENCH_PAIRS=w1 BENCH_WATCH_SUBSCRIBERS=10000 node --import tsx test/bench/watch-run.ts
// Prints the rows and the targets, and writes test/bench/results/watch.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cfgCli, ROOT } from './servers.ts';
import { measureWatch, WATCH_LABELS, watchNotes, watchOptionsFromEnv, watchTargets } from './watch.ts';

const only = process.env.BENCH_PAIRS ? new Set(process.env.BENCH_PAIRS.split(',')) : undefined;
const labels = WATCH_LABELS.filter((l) => !only || only.has(l));
const work = mkdtempSync(join(tmpdir(), 'cfg-bench-watch-'));
try {
  const env = {
    DATABASE_URL: `file:${join(work, 'watch.sqlite3')}`,
    CFG_LOG_LEVEL: 'warn',
    CFG_GRPC_HOST: '127.0.0.1',
    CFG_SECRET_KEY: 'bench-secret',
  };
  cfgCli(['migrate'], env);
  cfgCli(['seed'], env);
  const loadAtStart = +loadavg()[0]!.toFixed(2);
  const options = watchOptionsFromEnv();
  const rows = await measureWatch(labels, env, cfgCli(['token', '--username', 'admin'], env), options);
  const targets = watchTargets(rows);
  const notes = watchNotes(rows);
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: +loadavg()[0]!.toFixed(2) },
    options,
    rows,
    notes,
    targets,
  };
  console.log(
    `\nWatchPrices fan-out, ${report.date}: ${report.machine.cpus} cores, Node ${report.machine.node}, load average ${loadAtStart} at start and ${report.machine.loadAverageAtEnd} at end\n`,
  );
  console.table(rows);
  for (const note of notes) console.log(`note: ${note}`);
  console.table(Object.entries(targets).map(([target, t]) => ({ target, want: t.want, got: t.got, met: t.met ? 'yes' : 'NO' })));
  mkdirSync(join(ROOT, 'test/bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'test/bench/results/watch.json'), `${JSON.stringify(report, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
