import { GrpcError, Status } from '../call/error.ts';

// Prisma's codes for "the database cannot be used right now", with what the client is told.
const PRISMA_CODES: Record<string, string> = {
  P1000: 'authentication failed',
  P1001: 'cannot reach the database server',
  P1002: 'the database server timed out',
  P1003: 'the database does not exist',
  P1008: 'the operation timed out',
  P1010: 'access denied',
  P1017: 'the server closed the connection',
};
// Contention, not an outage: the database is up but this call could not have its turn (a deadlock
// or serialization failure, a lock wait or a pool wait that timed out, SQLite busy with another
// writer). The statement was rolled back, so nothing was applied and a retry may succeed; health
// is left alone. Codes: Prisma's, then PostgreSQL's SQLSTATE.
const CONTENTION_CODES: Record<string, [Status, string]> = {
  P2034: [Status.ABORTED, 'the transaction conflicted with a concurrent one (write conflict or deadlock)'],
  P2024: [Status.UNAVAILABLE, 'timed out waiting for a connection from the pool'],
  '40001': [Status.ABORTED, 'the transaction conflicted with a concurrent one (serialization failure)'],
  '40P01': [Status.ABORTED, 'the transaction conflicted with a concurrent one (deadlock)'],
  '55P03': [Status.ABORTED, 'timed out waiting for a lock held by a concurrent transaction'],
};
const POOL_WAIT = /^timeout exceeded when trying to connect$/;
const SQLITE_BUSY = /^SQLITE_BUSY|^SQLITE_LOCKED/;
// Driver adapter error kinds (DriverAdapterError.cause.kind) with the same meaning.
const ADAPTER_KINDS: Record<string, string> = {
  DatabaseNotReachable: 'cannot reach the database server',
  ConnectionClosed: 'the server closed the connection',
  SocketTimeout: 'the database server timed out',
  TooManyConnections: 'too many connections',
  DatabaseDoesNotExist: 'the database does not exist',
  AuthenticationFailed: 'authentication failed',
  DatabaseAccessDenied: 'access denied',
  TlsConnectionError: 'the TLS connection failed',
};
const NETWORK =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|Connection terminated|connection timeout|Can't reach database|server closed the connection|terminating connection/i;

interface ErrorLike {
  name?: string;
  code?: unknown;
  message?: string;
  cause?: { kind?: string; code?: string; originalCode?: string; message?: string };
  /** Prisma's known errors carry the driver adapter's error here. */
  meta?: { driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } };
}

function contention(e: ErrorLike): [Status, string] | undefined {
  const adapter = e.meta?.driverAdapterError?.cause;
  const codes = [e.code, e.cause?.code, e.cause?.originalCode, adapter?.originalCode].filter((c): c is string => typeof c === 'string');
  for (const code of codes) {
    if (CONTENTION_CODES[code]) return CONTENTION_CODES[code];
    if (SQLITE_BUSY.test(code)) return [Status.UNAVAILABLE, 'the database is busy with another writer'];
  }
  if (e.cause?.kind === 'TransactionWriteConflict' || adapter?.kind === 'TransactionWriteConflict') return CONTENTION_CODES.P2034;
  if (POOL_WAIT.test(e.message ?? '') || POOL_WAIT.test(e.cause?.message ?? '')) return CONTENTION_CODES.P2024;
  return undefined;
}

function reason(e: ErrorLike): string | undefined {
  const byCode = typeof e.code === 'string' ? PRISMA_CODES[e.code] : undefined;
  if (byCode) return byCode;
  const byKind = e.cause?.kind ? ADAPTER_KINDS[e.cause.kind] : undefined;
  if (byKind) return byKind;
  if (e.name === 'PrismaClientInitializationError') return 'the client could not connect';
  if (NETWORK.test(e.message ?? '') || NETWORK.test(e.cause?.message ?? '') || NETWORK.test(String(e.code ?? '')))
    return 'connection error';
  return undefined;
}

/**
 * Database outages become UNAVAILABLE (clients may retry). The client is told a fixed reason
 * ("Database unavailable: cannot reach the database server"), never the driver's message, so no
 * URL, host or password leaks; the original error is kept as the cause for the server log.
 * Contention (see CONTENTION_CODES) becomes ABORTED or UNAVAILABLE "Database busy: <reason>",
 * both retryable, and is not an outage: health does not change.
 */
export function mapDatabaseError(err: unknown): GrpcError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const busy = contention(err as ErrorLike);
  if (busy) return new GrpcError(busy[0], `Database busy: ${busy[1]}; nothing was applied, retry`, undefined, { cause: err });
  const why = reason(err as ErrorLike);
  if (why === undefined) return undefined;
  for (const listener of outageListeners) listener();
  return new GrpcError(Status.UNAVAILABLE, `Database unavailable: ${why}`, undefined, { cause: err });
}

const outageListeners = new Set<() => void>();

/** Called each time a call fails because the database is unavailable (health watches this). */
export function onDatabaseOutage(listener: () => void): () => void {
  outageListeners.add(listener);
  return () => outageListeners.delete(listener);
}
