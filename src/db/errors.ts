import { GrpcError, Status } from '../server/grpc-error.ts';

// Prisma's codes for "the database cannot be used right now", with what the client is told.
const PRISMA_CODES: Record<string, string> = {
  P1000: 'authentication failed',
  P1001: 'cannot reach the database server',
  P1002: 'the database server timed out',
  P1003: 'the database does not exist',
  P1008: 'the operation timed out',
  P1010: 'access denied',
  P1017: 'the server closed the connection',
  P2024: 'timed out waiting for a connection from the pool',
};
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
const NETWORK = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|Connection terminated|connection timeout|Can't reach database|server closed the connection|terminating connection/i;

interface ErrorLike {
  name?: string;
  code?: unknown;
  message?: string;
  cause?: { kind?: string; code?: string; message?: string };
}

function reason(e: ErrorLike): string | undefined {
  const byCode = typeof e.code === 'string' ? PRISMA_CODES[e.code] : undefined;
  if (byCode) return byCode;
  const byKind = e.cause?.kind ? ADAPTER_KINDS[e.cause.kind] : undefined;
  if (byKind) return byKind;
  if (e.name === 'PrismaClientInitializationError') return 'the client could not connect';
  if (NETWORK.test(e.message ?? '') || NETWORK.test(e.cause?.message ?? '') || NETWORK.test(String(e.code ?? ''))) return 'connection error';
  return undefined;
}

/**
 * Database outages become UNAVAILABLE (clients may retry). The client is told a fixed reason
 * ("Database unavailable: cannot reach the database server"), never the driver's message, so no
 * URL, host or password leaks; the original error is kept as the cause for the server log.
 */
export function mapDatabaseError(err: unknown): GrpcError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
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
