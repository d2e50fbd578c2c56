import { status } from '@grpc/grpc-js';

/** How a call (or the reflection `cfg call` made first) ended: a gRPC status code and its message. */
export interface CallStatus {
  readonly code: number;
  readonly details: string;
}

/** A call that ended with a status other than OK, thrown by the client helpers of `cfg call`. */
export class CallStatusError extends Error {
  override readonly name = 'CallStatusError';
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${statusName(code)} ${details}`);
  }
}

/** "NOT_FOUND" for 5; the number itself for a code gRPC does not define. */
export function statusName(code: number): string {
  return (status as unknown as Record<number, string | undefined>)[code] ?? String(code);
}

/** The status of a grpc-js error (a ServiceError has `code` and `details`), or undefined for any other error. */
export function statusOf(err: unknown): CallStatus | undefined {
  const e = err as { code?: unknown; details?: unknown } | null;
  if (typeof e?.code !== 'number') return undefined;
  return { code: e.code, details: typeof e.details === 'string' ? e.details : '' };
}
