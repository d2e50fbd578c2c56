import kleur from 'kleur';

/** Log levels, lowest first. */
export const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];
export type LogFormat = 'pretty' | 'json';

export interface Logger {
  readonly name: string;
  isEnabled(level: LogLevel): boolean;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface LogSettings {
  /** Level for loggers not named in `levels`. */
  level: LogLevel;
  /** Per-logger levels; a name matches itself and its dotted children ("apps" covers "apps.crypto"). */
  levels: Record<string, LogLevel>;
  format: LogFormat;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

let settings: LogSettings = {
  level: 'info',
  levels: {},
  format: process.stderr.isTTY ? 'pretty' : 'json',
};
const loggers = new Map<string, LoggerImpl>();

/**
 * Lines are buffered and written once per event-loop turn, so a busy server never blocks on
 * a synchronous stderr write per call. `flushLogs()` writes what is pending (called at exit).
 */
let pending: string[] = [];
let scheduled = false;
function enqueue(line: string): void {
  pending.push(line);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushLogs);
  }
}
export function flushLogs(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const out = pending.join('');
  pending = [];
  process.stderr.write(out);
}
process.on('exit', flushLogs);

const colour: Record<LogLevel, (s: string) => string> = {
  debug: kleur.gray,
  info: kleur.green,
  warn: kleur.yellow,
  error: kleur.red,
  silent: (s) => s,
};

function levelFor(name: string): LogLevel {
  let best: LogLevel = settings.level;
  let bestLen = -1;
  for (const [prefix, level] of Object.entries(settings.levels)) {
    if ((name === prefix || name.startsWith(`${prefix}.`)) && prefix.length > bestLen) {
      best = level;
      bestLen = prefix.length;
    }
  }
  return best;
}

class LoggerImpl implements Logger {
  min = 0;
  private readonly quotedName: string;
  constructor(readonly name: string) {
    this.quotedName = JSON.stringify(name);
    this.refresh();
  }
  refresh(): void {
    this.min = rank[levelFor(this.name)];
  }
  isEnabled(level: LogLevel): boolean {
    return rank[level] >= this.min;
  }
  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (rank[level] < this.min) return;
    if (settings.format === 'json') {
      const tail = typeof msg === 'string' ? jsonTail(fields) : undefined;
      enqueue(
        tail === undefined
          ? `${spreadLine(level, this.name, msg, fields)}\n`
          : `{"time":"${now()}","level":"${level}","logger":${this.quotedName},"msg":${JSON.stringify(msg)}${tail}\n`,
      );
      return;
    }
    let line = `${kleur.dim(now().slice(11, 23))} ${colour[level](level.toUpperCase().padEnd(5))} ${kleur.cyan(this.name)} ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) continue;
        if (k === 'stack' && typeof v === 'string') line += `\n${kleur.dim(v)}`;
        else line += ` ${kleur.dim(`${k}=`)}${typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)}`;
      }
    }
    enqueue(`${line}\n`);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * The current time as ISO 8601, formatted once per millisecond: a busy server logs many calls
 * per millisecond, and formatting a Date costs more than the rest of a call's line.
 */
let stampMs = -1;
let stamp = '';
function now(): string {
  const ms = Date.now();
  if (ms !== stampMs) {
    stampMs = ms;
    stamp = new Date(ms).toISOString();
  }
  return stamp;
}

/** A JSON line as one object spread (the fields win over the head); the head alone when the fields turn it into no JSON (a `toJSON`). */
function spreadLine(level: LogLevel, logger: string, msg: unknown, fields: Record<string, unknown> | undefined): string {
  const time = now();
  return JSON.stringify({ time, level, logger, msg, ...fields }, jsonSafe) ?? JSON.stringify({ time, level, logger, msg }, jsonSafe);
}

/**
 * A JSON line's fields after its time, level, logger and msg, `,"k":v,...}`, for the common case:
 * a plain object with none of those four names (the line then has no duplicate key). A replacer
 * makes JSON.stringify several times slower, so it is used only for values it refuses (bigints).
 * Undefined for anything else (null, an array, a Date, a `toJSON`, a head name): the caller then
 * writes the line as one object spread, as before.
 */
function jsonTail(fields: Record<string, unknown> | undefined): string | undefined {
  if (fields === undefined) return '}';
  if (typeof fields !== 'object' || fields === null || Object.getPrototypeOf(fields) !== Object.prototype) return undefined;
  if ('time' in fields || 'level' in fields || 'logger' in fields || 'msg' in fields || 'toJSON' in fields) return undefined;
  let body: string;
  try {
    body = JSON.stringify(fields);
  } catch {
    body = JSON.stringify(fields, jsonSafe);
  }
  return body.length <= 2 ? '}' : `,${body.slice(1)}`;
}

/** A named logger: "grpc.server", "grpc.discovery", "apps.crypto", ... Created once per name. */
export function getLogger(name: string): Logger {
  let logger = loggers.get(name);
  if (!logger) {
    logger = new LoggerImpl(name);
    loggers.set(name, logger);
  }
  return logger;
}

/** Applies the `logging` section of the config to every logger, existing and future. */
export function configureLogging(next: Partial<LogSettings>): void {
  settings = { ...settings, ...next, levels: { ...settings.levels, ...next.levels } };
  for (const logger of loggers.values()) logger.refresh();
}

export function logSettings(): Readonly<LogSettings> {
  return settings;
}
