import { stat } from 'node:fs/promises';
import { basename, relative, resolve, sep } from 'node:path';
import { watch } from 'chokidar';
import kleur from 'kleur';
import { CfgError, isCfgError } from '../errors.ts';
import { generateProto, type GenerateOptions } from './generate.ts';
import { lintSaved } from './lint.ts';

/** Changes closer together than this (an editor's save, a git checkout) make one run. */
const DEBOUNCE_MS = 100;

export interface ProtoWatcher {
  /** Stops watching; resolves once a run in progress has finished. */
  close(): Promise<void>;
}

export interface WatchOptions extends GenerateOptions {
  /** The project root, where buf.yaml is: saved files are linted with its rules (default: cwd). */
  root?: string;
  /** Receives each run's line (default: stdout for a success, stderr for a failure). */
  report?: (line: string, ok: boolean) => void;
}

const clock = () => kleur.dim(new Date().toTimeString().slice(0, 8));

function defaultReport(line: string, ok: boolean): void {
  (ok ? process.stdout : process.stderr).write(`${line}\n`);
}

/** A failure as one line: buf's messages (file:line:column: ...) joined with "; ". */
function oneLine(err: unknown): string {
  if (!isCfgError(err)) return err instanceof Error ? err.message : String(err);
  const [head = '', ...detail] = err.message.split('\n').filter((l) => l.trim() !== '');
  return detail.length > 0 ? detail.map((l) => l.trim()).join('; ') : head;
}

/**
 * Generates once, then again after every change to a .proto under the proto dir. Each run is
 * reported in one line with the clock time, what changed and how long it took. A run that fails
 * (a broken file, no .proto left) is reported and leaves the output as it was; watching goes on,
 * and the next save that fixes it generates again. Runs never overlap: changes made during a run
 * start one more run after it.
 */
export async function startProtoWatch(options: WatchOptions): Promise<ProtoWatcher> {
  const cwd = options.cwd ?? process.cwd();
  const protoDir = resolve(cwd, options.protoDir);
  const outputDir = resolve(cwd, options.outputDir);
  const report = options.report ?? defaultReport;
  const shownOut = `${relative(cwd, outputDir) || '.'}/`;

  const found = await stat(protoDir).catch(() => null);
  if (!found?.isDirectory()) {
    throw new CfgError(
      'E_PROTO_DIR',
      `Proto directory ${relative(cwd, protoDir) || '.'}/ does not exist: nothing to watch.`,
      'Create it and put your .proto files there, or pass --proto-dir DIR.',
    );
  }

  const inOutput = (path: string) => path === outputDir || path.startsWith(outputDir + sep);
  const watcher = watch(protoDir, {
    ignoreInitial: true,
    ignored: (path, stats) =>
      inOutput(path) || /[\\/](node_modules|\.git)([\\/]|$)/.test(path) || (Boolean(stats?.isFile()) && !path.endsWith('.proto')),
  });

  let changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const runOnce = async (): Promise<void> => {
    const saved = [...changed];
    const why = saved.map((p) => basename(p));
    changed = new Set();
    const prefix = `${clock()} ${why.length ? `${why.join(', ')} changed: ` : ''}`;
    const started = performance.now();
    try {
      const result = await generateProto({ protoDir, outputDir, cwd, es: options.es });
      report(
        `${prefix}${kleur.green('generated')} ${result.protoFiles.length} proto file(s) -> ${shownOut} (${result.written.length} files) in ${result.ms} ms`,
        true,
      );
      for (const line of await lintSaved({ root: options.root ?? cwd, protoDir, shownFrom: cwd }, saved))
        report(`${clock()} ${kleur.yellow('lint')} ${line}`, true);
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      report(`${prefix}${kleur.red('failed')} in ${ms} ms: ${oneLine(err)} (${shownOut} left as it was; waiting for a fix)`, false);
    }
  };
  const run = (): void => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        run();
      }
    });
  };

  watcher.on('all', (event, path) => {
    if (event !== 'unlinkDir' && event !== 'addDir' && !path.endsWith('.proto')) return;
    if (event === 'addDir') return; // its files arrive as their own 'add' events
    changed.add(path);
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  watcher.on('error', (err) => report(`${clock()} ${kleur.yellow('watcher')}: ${(err as Error).message}`, false));
  await new Promise<void>((ready) => watcher.once('ready', () => ready()));
  run();

  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await watcher.close();
      await running;
    },
  };
}

/** `cfg generate-proto --watch`: watches until SIGINT or SIGTERM, then stops cleanly (exit 0). */
export async function watchProto(options: WatchOptions): Promise<void> {
  const watcher = await startProtoWatch(options);
  const protoDir = relative(options.cwd ?? process.cwd(), resolve(options.cwd ?? process.cwd(), options.protoDir)) || '.';
  process.stdout.write(`${clock()} watching ${protoDir}/ for .proto changes (Ctrl-C to stop)\n`);
  await new Promise<void>((stopped) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // A second signal while the last run finishes ends at once.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      void watcher.close().then(stopped);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
