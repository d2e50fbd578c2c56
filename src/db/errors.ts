import { GrpcError, Status } from '../server/grpc-error.ts';

const UNREACHABLE = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const NETWORK = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|Connection terminated|connection timeout|Can't reach database|server closed the connection|terminating connection/i;
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'DatabaseDoesNotExist', 'AuthenticationFailed']);

function code(err: unknown): string | undefined {
  return (err as { code?: unknown })?.code as string | undefined;
}

/** Database outages become UNAVAILABLE (clients may retry); the message never carries the URL. */
export function mapDatabaseError(err: unknown): GrpcError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { message?: string; cause?: { kind?: string; code?: string; message?: string; originalCode?: string }; name?: string };
  const kind = e.cause?.kind;
  const unreachable =
    UNREACHABLE.has(code(err) ?? '') ||
    (kind !== undefined && ADAPTER_KINDS.has(kind)) ||
    NETWORK.test(e.message ?? '') ||
    NETWORK.test(e.cause?.message ?? '') ||
    (e.name === 'PrismaClientInitializationError');
  if (!unreachable) return undefined;
  return new GrpcError(Status.UNAVAILABLE, 'Database unavailable; retry later', undefined, { cause: err });
}
