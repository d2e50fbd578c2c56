// Reading a request body, bounded: in size (the receive limit, checked against Content-Length
// before anything is read and against the bytes as they arrive), in time (the whole body within
// requestTimeoutMs), and once inflated (gzip is inflated with its output capped, so a small
// compressed body cannot become a large one in memory).
import type { Readable } from 'node:stream';
import { gunzip } from 'node:zlib';
import { GrpcError, Status } from '../../call/error.ts';

/** Why a body was not read: the status to answer with (or none: the client is gone). */
export class BodyError extends GrpcError {}

/**
 * Bodies being read, each with the time it must be complete by: one timer sweeps them all (a
 * call adds and removes an entry; no timer per request).
 */
export class BodyDeadlines {
  private readonly pending = new Map<object, { at: number; expire: () => void }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  add(key: object, expire: () => void): void {
    this.pending.set(key, { at: Date.now() + this.timeoutMs, expire });
    this.timer ??= setInterval(() => this.sweep(), Math.max(25, Math.min(1000, this.timeoutMs / 4))).unref();
  }

  delete(key: object): void {
    this.pending.delete(key);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.pending) {
      if (entry.at > now) continue;
      this.pending.delete(key);
      entry.expire();
    }
    if (this.pending.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * Reads `readable` to its end, calling `done` once: with the body, or with a BodyError when it is
 * larger than `limit` bytes (reading stops there) or not complete in time, or with null when the
 * client went away. `declared` is Content-Length, when sent: over `limit`, nothing is read.
 */
export function readBody(
  readable: Readable,
  limit: number,
  declared: number | undefined,
  deadlines: BodyDeadlines,
  done: (err: BodyError | null | undefined, body: Buffer) => void,
): void {
  if (declared !== undefined && declared > limit) {
    done(
      new BodyError(
        Status.RESOURCE_EXHAUSTED,
        `Request body of ${declared} bytes is over the receive limit of ${limit} bytes (grpc.server.maxReceiveMessageLength)`,
      ),
      EMPTY,
    );
    return;
  }
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  let settled = false;
  const finish = (err: BodyError | null | undefined, body: Buffer) => {
    if (settled) return;
    settled = true;
    deadlines.delete(readable);
    readable.off('data', onData);
    readable.off('end', onEnd);
    readable.off('error', onGone);
    readable.off('close', onGone);
    done(err, body);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      readable.pause();
      finish(
        new BodyError(
          Status.RESOURCE_EXHAUSTED,
          `Request body is over the receive limit of ${limit} bytes (grpc.server.maxReceiveMessageLength)`,
        ),
        EMPTY,
      );
    } else if (first === undefined) first = chunk;
    else (chunks ??= [first]).push(chunk);
  };
  const onEnd = () => finish(undefined, chunks ? Buffer.concat(chunks, size) : (first ?? EMPTY));
  const onGone = () => finish(null, EMPTY);
  readable.on('data', onData);
  readable.once('end', onEnd);
  readable.once('error', onGone);
  readable.once('close', onGone);
  deadlines.add(readable, () =>
    finish(new BodyError(Status.DEADLINE_EXCEEDED, 'Request body not received in time (grpc.web.requestTimeoutMs)'), EMPTY),
  );
}

const EMPTY = Buffer.alloc(0);

/** Inflates a gzip body, at most `limit` bytes of output: RESOURCE_EXHAUSTED past it, INVALID_ARGUMENT for bad data. */
export function inflate(data: Buffer, limit: number, done: (err: GrpcError | undefined, out: Buffer) => void): void {
  gunzip(data, { maxOutputLength: limit }, (err, out) => {
    if (!err) return done(undefined, out);
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      done(
        new GrpcError(
          Status.RESOURCE_EXHAUSTED,
          `Decompressed request message is over the receive limit of ${limit} bytes (grpc.server.maxReceiveMessageLength)`,
        ),
        EMPTY,
      );
    } else done(new GrpcError(Status.INVALID_ARGUMENT, `Request message is not valid gzip data: ${err.message}`), EMPTY);
  });
}
