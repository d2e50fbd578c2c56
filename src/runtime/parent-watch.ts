/**
 * Noticing that the process that started rungrpc is gone. npm (npx cfg, npm exec, npm run/start)
 * runs `sh -c "cfg rungrpc"` and forwards a SIGTERM to that shell only: the shell dies and node is
 * re-parented (to init or a subreaper), still serving. So under npm, rungrpc polls its parent pid
 * and, once it changes, stops as on SIGTERM: drains, then exits 0.
 *
 * Outside npm nothing is watched: `nohup node bin/cfg.js rungrpc &` must survive its shell.
 */

/** npm and the other package managers set npm_lifecycle_event for the scripts and bins they run. */
export function startedByPackageManager(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.npm_lifecycle_event);
}

/** Calls `fn` once, when the parent pid changes (checked every `intervalMs`; the timer keeps nothing alive). */
export function onOrphaned(fn: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    fn();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** Under a package manager, `fn` runs when the parent goes; otherwise never. */
export function stopWhenOrphaned(fn: () => void): void {
  if (startedByPackageManager()) onOrphaned(fn);
}
