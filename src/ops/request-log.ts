import { randomUUID } from 'node:crypto';
import { getLogger } from '../log/logger.ts';
import type { LogSink } from './log-sink.ts';
import type { RequestLogEntry } from './queries.ts';

/** One call as the request log interceptor records it: a row without id and serverId, its time in ms. */
export type RequestRecord = Omit<RequestLogEntry, 'id' | 'createdAt' | 'status' | 'serverId' | 'protocol'> & {
  /** ms since epoch */
  createdAt: number;
  /** "grpc" when not given. */
  protocol?: string;
};

export interface RequestLogWriterOptions {
  /** Stamped on every row (grpc_server.id). */
  serverId: string | null;
  /** Rows per INSERT; a full batch is written at once. */
  batchSize: number;
  /** A partial batch is written after at most this long. */
  flushIntervalMs: number;
  /** Records held while the database is slow or down (grpc.requestLog.maxPending); past this, new ones are dropped (counted). */
  maxPending: number;
}

/** Why records were dropped: the `reason` label of cfg_request_log_dropped_total. */
export type DropReason = 'queue_full' | 'write_failed' | 'after_close';
export const DROP_REASONS: readonly DropReason[] = ['queue_full', 'write_failed', 'after_close'];
const DROP_WHY: Record<DropReason, string> = {
  queue_full: 'the queue was full (the database is not keeping up)',
  write_failed: 'writes failed',
  after_close: 'they came after the writer closed',
};

/** Drops are reported in one warning per interval of this length, with the count. */
const REPORT_EVERY_MS = 10_000;
const log = getLogger('grpc.requestlog');

let lastMs = -1;
let sequence = 0;

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit sequence, then random bits. The
 * sequence (RFC 9562 section 6.2, method 1) keeps ids made in one process strictly increasing, so
 * calls recorded in the same millisecond still sort in the order they ended.
 */
export function uuid7(ms: number): string {
  if (ms > lastMs) {
    lastMs = ms;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs++;
    sequence = 0;
  }
  const t = lastMs.toString(16).padStart(12, '0');
  const r = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: its variant nibble is kept
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${sequence.toString(16).padStart(3, '0')}-${r.slice(19)}`;
}

/**
 * The request log's writer: records are buffered in memory and inserted in batches (one INSERT
 * of up to batchSize rows) when a batch is full or flushIntervalMs has passed, one write at a
 * time. A call never waits for it. When the database fails, the batch is dropped; while a write is
 * slow, up to maxPending records wait, and past that new ones are dropped. Drops are counted by
 * reason (`droppedBy`, cfg_request_log_dropped_total on /metrics) and reported in one warning per
 * interval with the count, never one per record. A crash loses what is buffered: normally at most
 * one batch, or flushIntervalMs worth of calls, whichever is fewer.
 */
export class RequestLogWriter {
  private buffer: RequestRecord[] = [];
  private writing: Promise<void> | undefined;
  private soon = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly maxPending: number;
  /** Rows written since start. */
  written = 0;
  /** Records dropped since start, by reason. */
  readonly droppedBy: Record<DropReason, number> = { queue_full: 0, write_failed: 0, after_close: 0 };
  /** Drops not reported yet, by reason; reported when `report` fires (one line per interval). */
  private unreported: Partial<Record<DropReason, number>> = {};
  private report: NodeJS.Timeout | undefined;
  private failing = false;

  private sink: Promise<LogSink> | undefined;

  constructor(
    /** Opens the writer's connection; called on the first write, and again after a failed open. */
    private readonly open: () => Promise<LogSink>,
    private readonly options: RequestLogWriterOptions,
  ) {
    this.maxPending = options.maxPending;
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  /** Buffers one record (never throws, never waits). */
  record(record: RequestRecord): void {
    if (this.closed || this.buffer.length >= this.maxPending) {
      this.drop(1, this.closed ? 'after_close' : 'queue_full');
      return;
    }
    this.buffer.push(record);
    // Not from inside the call's onEnd: the batch is written once the current tick's calls have ended.
    if (this.buffer.length >= this.options.batchSize && !this.soon && this.writing === undefined) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        void this.flush();
      });
    }
  }

  /** Writes everything buffered now (in batches, one write at a time); failures are counted, not thrown. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.writing) {
        await this.writing;
        continue;
      }
      if (this.buffer.length === 0) return;
      const size = this.options.batchSize;
      const batch = this.buffer.length <= size ? this.buffer : this.buffer.slice(0, size);
      this.buffer = batch === this.buffer ? [] : this.buffer.slice(size);
      this.writing = this.write(batch).finally(() => (this.writing = undefined));
    }
  }

  /** Stops the timer and writes what is left (graceful shutdown). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
    const sink = this.sink;
    this.sink = undefined;
    await sink?.then((s) => s.close()).catch(() => {});
    if (this.report) clearTimeout(this.report);
    this.report = undefined;
    if (this.dropped > 0) {
      const pending = Object.values(this.unreported).reduce((sum, n) => sum + n, 0);
      this.unreported = {};
      log.warn(
        `request log closed: ${this.dropped} record(s) dropped since start (${pending} since the last report), ${this.written} written`,
        { written: this.written, dropped: this.dropped, ...this.droppedBy },
      );
    }
  }

  /** Records dropped since start, every reason. */
  get dropped(): number {
    return this.droppedBy.queue_full + this.droppedBy.write_failed + this.droppedBy.after_close;
  }

  private async write(batch: RequestRecord[]): Promise<void> {
    try {
      const opening = (this.sink ??= this.open());
      opening.catch(() => (this.sink = undefined));
      await (await opening).insert(rowValues(batch, this.options.serverId));
      this.written += batch.length;
      if (this.failing) {
        this.failing = false;
        log.info(`request log: writing again (${this.droppedBy.write_failed} record(s) dropped by failed writes since start)`);
      }
    } catch (err) {
      if (!this.failing) log.warn(`request log: a write failed: ${(err as Error).message.split('\n')[0]}`);
      this.failing = true;
      this.drop(batch.length, 'write_failed');
    }
  }

  /** Counts a drop; the first one of an interval starts it, and its end reports them all in one line. */
  private drop(n: number, reason: DropReason): void {
    this.droppedBy[reason] += n;
    this.unreported[reason] = (this.unreported[reason] ?? 0) + n;
    if (this.report || this.closed) return;
    this.report = setTimeout(() => {
      this.report = undefined;
      const counts = this.unreported;
      this.unreported = {};
      const total = Object.values(counts).reduce((sum, k) => sum + k, 0);
      const why = (Object.keys(counts) as DropReason[]).map((r) => `${counts[r]} because ${DROP_WHY[r]}`).join(', ');
      log.warn(
        `request log: dropped ${total} record(s) in the last ${REPORT_EVERY_MS / 1000} s: ${why} (queue bound ${this.maxPending}; ${this.dropped} since start)`,
        { dropped: total, ...counts },
      );
    }, REPORT_EVERY_MS);
    this.report.unref();
  }
}

/**
 * The rows to insert, values in COLUMNS order. Times are written as Prisma writes DateTime: UTC
 * ISO text with "+00:00" on SQLite (so Prisma's own comparisons match), and the same text for
 * PostgreSQL's timestamp(3), which keeps the wall time (UTC, as Prisma does).
 */
function rowValues(batch: RequestRecord[], serverId: string | null): unknown[][] {
  return batch.map((r) => [
    uuid7(r.createdAt),
    new Date(r.createdAt).toISOString().replace('Z', '+00:00'),
    r.service,
    r.method,
    r.code,
    r.durationMs,
    r.peer,
    r.userId,
    r.apiKeyId,
    r.error,
    r.requestSize,
    r.responseSize,
    serverId,
    r.protocol ?? 'grpc',
  ]);
}
