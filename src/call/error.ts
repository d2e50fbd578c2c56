/**
 * The status codes a call ends with: gRPC's canonical codes, with the same numbers, so that every
 * transport passes them through unchanged (grpc-js takes them as they are; gRPC-Web sends the
 * number in grpc-status; Connect maps each to its name).
 */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** A metadata value: text, or bytes for keys ending in "-bin". */
export type MetadataValue = string | Buffer;

/** Metadata as the call core carries it (trailers of an error): key -> value, or values when repeated. */
export type MetadataRecord = Readonly<Record<string, MetadataValue | readonly MetadataValue[]>>;

/**
 * The one error a handler throws to end a call with a status. Every `abort*` helper of
 * BaseService throws one; the call core turns it into the status at one boundary
 * (src/call/boundary.ts). Any other error becomes INTERNAL with a generic message.
 */
export class GrpcError extends Error {
  override readonly name = 'GrpcError';
  constructor(
    readonly code: Status,
    message: string,
    /** Trailing metadata sent with the status: `{ 'retry-after-ms': '500' }`. */
    readonly metadata?: MetadataRecord,
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

/** The status a call ends with, as the boundary hands it to the transport. */
export interface CallStatus {
  readonly code: Status;
  /** The status message the client sees ("Internal server error" for an unknown error). */
  readonly message: string;
  /** Trailers of the error, when it carries any. */
  readonly metadata: MetadataRecord | undefined;
}

const names: Record<number, string> = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k]));

/** "NOT_FOUND" for Status.NOT_FOUND. */
export function statusName(code: number): string {
  return names[code] ?? `STATUS_${code}`;
}
