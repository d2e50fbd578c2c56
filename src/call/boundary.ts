import { getLogger } from '../log/logger.ts';
import type { CallContext } from './context.ts';
import { GrpcError, Status, type CallStatus } from './error.ts';

/**
 * Turns a known non-GrpcError (a database outage, say) into a GrpcError, or returns undefined.
 * The database layer registers one so that this module knows nothing of Prisma.
 */
export type ErrorMapper = (err: unknown) => GrpcError | undefined;

const mappers: ErrorMapper[] = [];
const log = getLogger('grpc.server');

export function registerErrorMapper(mapper: ErrorMapper): void {
  if (!mappers.includes(mapper)) mappers.push(mapper);
}

/** Each error's classification: logging, request log, metrics and the boundary all ask, mappers run once. */
const classified = new WeakMap<object, GrpcError>();

/**
 * What a thrown value means as a gRPC status: a GrpcError as it is, a mapped error, or INTERNAL.
 * The same answer every time for the same error object (so an outage is reported once per error).
 */
export function classify(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  const known = typeof err === 'object' && err !== null ? classified.get(err) : undefined;
  if (known) return known;
  let result: GrpcError | undefined;
  for (const map of mappers) {
    result = map(err);
    if (result) break;
  }
  result ??= GrpcError.from(err);
  if (typeof err === 'object' && err !== null) classified.set(err, result);
  return result;
}

/**
 * The one boundary where a handler's failure becomes the status the client sees. Unknown errors
 * reach the client as INTERNAL "Internal server error"; their message and stack go to the log.
 */
export function toStatus(err: unknown, ctx: CallContext): CallStatus {
  const grpcError = classify(err);
  if (grpcError.code === Status.INTERNAL || grpcError.code === Status.UNKNOWN) {
    const cause = grpcError.cause ?? err;
    log.error(`${ctx.method.path} failed`, {
      error: cause instanceof Error ? cause.message : String(cause),
      stack: cause instanceof Error ? cause.stack : undefined,
      peer: ctx.peer,
    });
  } else if (grpcError.cause !== undefined && grpcError.code === Status.UNAVAILABLE) {
    const cause = grpcError.cause;
    log.warn(`${ctx.method.path} unavailable`, { error: cause instanceof Error ? cause.message : String(cause) });
  }
  return { code: grpcError.code, message: grpcError.message, metadata: grpcError.metadata };
}
