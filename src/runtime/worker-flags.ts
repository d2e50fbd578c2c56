/**
 * The Node flags cluster workers start with: the primary's own, plus `--single-threaded-gc` when
 * there are at least as many workers as cores. V8 then collects garbage on each worker's main
 * thread instead of handing parts to helper threads: with a worker per core those helpers only
 * take CPU from the other workers, and the hand-off costs more than it saves (2 workers on 2
 * cores: 4-8% less CPU per call, 6-14% more calls/s, in `npm run bench` terms). With fewer
 * workers than cores the helpers have idle cores to run on, so the flags stay as they are.
 * A GC threading flag given by the user (`node --no-single-threaded-gc bin/cfg.js ...`, or one
 * of V8's parallel/concurrent GC switches) always wins.
 */
export function workerExecArgv(execArgv: readonly string[], processes: number, cores: number): string[] {
  const args = [...execArgv];
  if (processes < cores) return args;
  const chosen = args.some((a) =>
    /^--(no-)?(single-threaded-gc|single-threaded|parallel-scavenge|parallel-marking|concurrent-marking)(=|$)/.test(a.replace(/_/g, '-')),
  );
  if (!chosen) args.push('--single-threaded-gc');
  return args;
}
