import { relative } from 'node:path';
import { settingOrigin } from '../config/origin.ts';
import { CfgError } from '../errors.ts';
import { maskUrl, type DatabaseTarget } from './url.ts';

/**
 * Database failures as commands report them: one line with a code, where, and what to do
 * (the gRPC side's mapping, for clients, is errors.ts). Reads Prisma's error codes, the driver
 * adapters' error kinds, pg's and Node's error codes and better-sqlite3's; never prints a URL's
 * password.
 */

export type FailureKind = 'unreachable' | 'missing-database' | 'access' | 'schema' | 'locked' | 'other';

export interface DatabaseFailure {
  kind: FailureKind;
  /** One line, from the driver: "connection refused", "table auth_user does not exist". */
  reason: string;
}

interface ErrorLike {
  name?: string;
  code?: unknown;
  message?: string;
  errors?: unknown[];
  meta?: { driverAdapterError?: { cause?: AdapterCause } };
  cause?: AdapterCause;
}
interface AdapterCause {
  kind?: string;
  table?: string;
  column?: string;
  originalMessage?: string;
  message?: string;
}

const BY_CODE: Record<string, FailureKind> = {
  // Prisma
  P1000: 'access',
  P1001: 'unreachable',
  P1002: 'unreachable',
  P1003: 'missing-database',
  P1010: 'access',
  P1017: 'unreachable',
  P2021: 'schema',
  P2022: 'schema',
  P2024: 'unreachable',
  // Node sockets
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  ETIMEDOUT: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  // PostgreSQL SQLSTATE
  '28P01': 'access',
  '28000': 'access',
  '3D000': 'missing-database',
  '42P01': 'schema',
  '42703': 'schema',
  '57P03': 'unreachable',
  '53300': 'unreachable',
  // better-sqlite3
  SQLITE_CANTOPEN: 'unreachable',
  SQLITE_NOTADB: 'unreachable',
  SQLITE_PERM: 'unreachable',
  SQLITE_READONLY: 'unreachable',
  SQLITE_BUSY: 'locked',
  SQLITE_LOCKED: 'locked',
};
const BY_KIND: Record<string, FailureKind> = {
  DatabaseNotReachable: 'unreachable',
  ConnectionClosed: 'unreachable',
  SocketTimeout: 'unreachable',
  TlsConnectionError: 'unreachable',
  TooManyConnections: 'unreachable',
  DatabaseDoesNotExist: 'missing-database',
  AuthenticationFailed: 'access',
  DatabaseAccessDenied: 'access',
  TableDoesNotExist: 'schema',
  ColumnNotFound: 'schema',
  SocketTimeoutError: 'unreachable',
};
const BY_MESSAGE: Array<[RegExp, FailureKind]> = [
  [/no such (table|column)|does not exist in the current database/i, 'schema'],
  [/Can't reach database server|Connection terminated|timeout expired|server closed the connection/i, 'unreachable'],
  [/database is locked/i, 'locked'],
];
const READABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

const isDatabaseError = (e: ErrorLike) =>
  /^(PrismaClient|DriverAdapterError|SqliteError|DatabaseError)/.test(e.name ?? '') ||
  e.meta?.driverAdapterError !== undefined ||
  (typeof e.code === 'string' && e.code in BY_CODE);

/** The last non-empty line: Prisma puts its invocation text first and the cause last. */
const lastLine = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop() ?? text;

/** What kind of database failure `err` is, with a one-line reason; undefined when it is none. */
export function databaseFailure(err: unknown): DatabaseFailure | undefined {
  if (typeof err !== 'object' || err === null || err instanceof CfgError) return undefined;
  let e = err as ErrorLike;
  // pg tries every address of "localhost" (::1, 127.0.0.1) and throws them together.
  if (e.name === 'AggregateError' && Array.isArray(e.errors) && typeof e.errors[0] === 'object' && e.errors[0] !== null)
    e = e.errors[0] as ErrorLike;
  const cause = e.meta?.driverAdapterError?.cause ?? e.cause;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = e.message ?? '';
  const kind =
    (code ? BY_CODE[code] : undefined) ??
    (cause?.kind ? BY_KIND[cause.kind] : undefined) ??
    BY_MESSAGE.find(([re]) => re.test(message) || re.test(cause?.originalMessage ?? ''))?.[1];
  if (!kind && !isDatabaseError(e)) return undefined;
  let reason: string;
  if (cause?.table && kind === 'schema') reason = `table ${cause.table.replace(/^(main|[^.]+)\./, '')} does not exist`;
  else if (cause?.column && kind === 'schema') reason = `column ${cause.column} does not exist`;
  else if (code && READABLE[code]) reason = READABLE[code]!;
  else if (kind === 'unreachable' && /Can't reach database server/.test(message)) reason = 'no server answers there';
  else reason = lastLine(cause?.originalMessage ?? (message || String(code ?? 'unknown database error')));
  return { kind: kind ?? 'other', reason: reason.replace(/\.$/, '') };
}

/** The configured database, and how to count its unapplied migrations. */
export interface DatabaseContext {
  root: string;
  /** database.url as configured. */
  url: string;
  target: DatabaseTarget;
  /** The migrations not applied yet (read-only); rejects when that cannot be told. */
  pending(): Promise<number>;
}

/** "SQLite var/cfg.sqlite3" or "PostgreSQL 127.0.0.1:5432/test (schema s)". */
export function describeDatabase(target: DatabaseTarget, root: string): string {
  if (target.provider === 'sqlite') return `SQLite ${relative(root, target.file) || target.file}`;
  const u = new URL(target.connectionString);
  return `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}${target.schema !== 'public' ? ` (schema ${target.schema})` : ''}`;
}

/** "3 unapplied migrations (run cfg migrate)": what check, rungrpc and every command say. */
export function unappliedText(count: number): string {
  return `${count} unapplied migration${count === 1 ? '' : 's'} (run cfg migrate)`;
}

/** The failure as a one-line CfgError naming the database and what to do; undefined for other errors. */
export async function databaseCfgError(err: unknown, ctx: DatabaseContext): Promise<CfgError | undefined> {
  const failure = databaseFailure(err);
  if (!failure) return undefined;
  const where = describeDatabase(ctx.target, ctx.root);
  const origin = settingOrigin('database.url');
  const url = `${origin.endsWith('cfg.config.ts') ? `${origin}: ` : `${origin}=`}${maskUrl(ctx.url)}`;
  const host = ctx.target.provider === 'postgresql' ? where.replace(/^PostgreSQL (\S+?)\/.*$/, '$1') : where;
  const cause = { cause: err };
  switch (failure.kind) {
    case 'unreachable':
      return ctx.target.provider === 'postgresql'
        ? new CfgError(
            'E_DB_UNREACHABLE',
            `Cannot reach PostgreSQL at ${host}: ${failure.reason}.`,
            `Is it running? The URL is ${url}`,
            cause,
          )
        : new CfgError(
            'E_DB_UNREACHABLE',
            `Cannot open ${where}: ${failure.reason}.`,
            `Check that its folder exists and is writable; the path is ${url}`,
            cause,
          );
    case 'missing-database':
      return new CfgError('E_DB_UNREACHABLE', `${where} does not exist (${failure.reason}).`, `Create the database, or fix ${url}`, cause);
    case 'access':
      return new CfgError('E_DB_ACCESS', `${where} refused the connection: ${failure.reason}.`, `Fix the user or password: ${url}`, cause);
    case 'schema': {
      const pending = await ctx.pending().catch(() => undefined);
      if (pending === 0) {
        return new CfgError(
          'E_DB_NOT_MIGRATED',
          `${where}: ${failure.reason}, although every migration in prisma/migrations/${ctx.target.provider} is applied.`,
          'The models changed without a migration: cfg makemigrations --name <what_changed>, then cfg migrate.',
          cause,
        );
      }
      const count = pending === undefined ? 'unapplied migrations' : unappliedText(pending);
      return new CfgError('E_DB_NOT_MIGRATED', `${where} has ${count}: ${failure.reason}.`, 'cfg migrate --status lists them.', cause);
    }
    case 'locked':
      return new CfgError(
        'E_DB',
        `${where} is locked by another process (${failure.reason}).`,
        'Try again when the other write is done.',
        cause,
      );
    default:
      return new CfgError('E_DB', `${where}: ${failure.reason}.`, `Run again with CFG_DEBUG=1 for the driver's full error.`, cause);
  }
}

/** A SQLite database whose file does not exist yet: every migration is unapplied. */
export async function notCreatedError(ctx: DatabaseContext): Promise<CfgError> {
  const count = await ctx.pending();
  return new CfgError(
    'E_DB_NOT_MIGRATED',
    `${describeDatabase(ctx.target, ctx.root)} does not exist yet: ${unappliedText(count)}.`,
    'cfg migrate creates it.',
  );
}
