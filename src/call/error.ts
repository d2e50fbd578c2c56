import { Metadata, status as Status } from '@grpc/grpc-js';

export { Status };

/**
 * The one error a handler throws to end a call with a gRPC status. Every `abort*` helper of
 * BaseService throws one; the call adapter turns it into the status at one boundary
 * (src/call/boundary.ts). Any other error becomes INTERNAL with a generic message.
 */
export class GrpcError extends Error {
  override readonly name = 'GrpcError';
  constructor(
    readonly code: Status,
    message: string,
    /** Trailing metadata sent with the status. */
    readonly metadata?: Metadata,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Normalises anything thrown into a GrpcError; unknown errors become INTERNAL. */
  static from(err: unknown): GrpcError {
    if (err instanceof GrpcError) return err;
    return new GrpcError(Status.INTERNAL, 'Internal server error', undefined, { cause: err });
  }
}

const names: Record<number, string> = Object.fromEntries(
  Object.entries(Status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k]),
);

/** "NOT_FOUND" for Status.NOT_FOUND. */
export function statusName(code: number): string {
  return names[code] ?? `STATUS_${code}`;
}
