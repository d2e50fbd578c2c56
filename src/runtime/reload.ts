import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watch } from 'chokidar';
import { MANAGED_ENV, type RunOptions } from './options.ts';
import { loadConfig } from '../config/load.ts';
import { isCfgError } from '../errors.ts';
import { flushLogs, getLogger } from '../log/logger.ts';
import { stopWhenOrphaned } from './parent-watch.ts';

const log = getLogger('grpc.reload');
const CLI = fileURLToPath(new URL('../../bin/cfg', import.meta.url));
/** Changes closer together than this restart once. */
const DEBOUNCE_MS = 150;
/** How long a restart lets the old server drain before killing it (development: keep it short). */
const STOP_MS = 3000;

/**
 * `cfg rungrpc --reload`: runs the server in a child process and restarts it when apps/,
 * proto/, prisma/ or cfg.config.ts change, regenerating the stubs first when a .proto changed.
 * A broken edit (the child fails to start, or a .proto fails to compile) prints the error and
 * waits for the next save. A fresh process per start means no stale module cache.
 */
export async function runWithReload(opts: RunOptions): Promise<void> {
  const config = await loadConfig();
  const root = config.root;
  const { protoDir, outputDir } = config.grpc.proto;
  const outputPath = resolve(root, outputDir);
  const args = [CLI, 'rungrpc'];
  if (opts.host !== undefined) args.push('--host', opts.host);
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  if (opts.processes !== undefined) args.push('--processes', String(opts.processes));
  if (opts.allowUnmigrated) args.push('--allow-unmigrated');

  const watched = ['apps', protoDir, 'prisma', 'cfg.config.ts'].map((p) => resolve(root, p));
  const ignored = (path: string) =>
    path === outputPath ||
    path.startsWith(outputPath + sep) ||
    /[\\/](node_modules|\.git)([\\/]|$)/.test(path) ||
    /(~|\.swp|\.swx|\.tmp|\.DS_Store)$/.test(path);
  const watcher = watch(watched, { ignoreInitial: true, ignored });
  await new Promise<void>((ready) => watcher.once('ready', () => ready()));
  log.info(
    `watching ${watched
      .filter(existsSync)
      .map((p) => relative(root, p) || '.')
      .join(', ')} for changes`,
  );

  let child: ChildProcess | undefined;
  let stopping = false;
  /** Children stopped on purpose (a restart): their exit is no failure. */
  const replaced = new WeakSet<ChildProcess>();
  const start = () => {
    const proc = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, [MANAGED_ENV]: '1' },
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    });
    child = proc;
    proc.on('exit', (code, signal) => {
      if (child === proc) child = undefined;
      if (!stopping && !replaced.has(proc)) {
        log.error(`the server exited (${signal ?? `code ${code}`}): fix the error above and save; waiting for a change`);
        flushLogs();
      }
    });
  };
  const stop = async (proc: ChildProcess | undefined, graceMs: number) => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((done) => proc.once('exit', done));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  // Changes are batched; one restart runs at a time, and changes made during it restart again.
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let busy: Promise<void> = Promise.resolve();
  const restart = async () => {
    const changed = [...pending];
    pending = new Set();
    if (changed.length === 0 || stopping) return;
    log.info(`${changed.map((p) => relative(root, p)).join(', ')} changed: restarting`);
    if (changed.some((p) => p.endsWith('.proto'))) {
      try {
        const { generateProto } = await import('../proto/generate.ts');
        const result = await generateProto({ protoDir, outputDir, cwd: root, es: config.grpc.proto.es });
        log.info(`regenerated stubs from ${result.protoFiles.length} proto file(s) in ${result.ms} ms`);
        const { lintSaved } = await import('../proto/lint.ts');
        for (const line of await lintSaved({ root, protoDir, shownFrom: root }, changed)) log.warn(`lint ${line}`);
      } catch (err) {
        log.error(isCfgError(err) ? `${err.code} ${err.message}` : String(err));
        log.error('stubs not regenerated: fix the .proto and save; the running server (if any) keeps its old stubs');
        return;
      }
    }
    if (child) replaced.add(child);
    await stop(child, Math.min(STOP_MS, config.grpc.server.shutdownGraceMs + 500));
    if (!stopping) start();
  };
  watcher.on('all', (_event, path) => {
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      busy = busy.then(restart, restart);
    }, DEBOUNCE_MS);
  });
  watcher.on('error', (err) => log.warn(`watcher: ${(err as Error).message}`));

  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) {
      child?.kill('SIGKILL');
      flushLogs();
      process.exit(1);
    }
    stopping = true;
    clearTimeout(timer);
    log.info(`${signal}: stopping the server and the watcher`);
    void watcher.close();
    void stop(child, config.grpc.server.shutdownGraceMs + 2000).then(() => {
      flushLogs();
      process.exit(0);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  stopWhenOrphaned(() => signals === 0 && onSignal('parent process gone'));
  start();
}
