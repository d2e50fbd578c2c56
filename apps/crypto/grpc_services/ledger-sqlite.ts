import { Worker } from 'node:worker_threads';
import { GrpcError, Status } from 'cfg-grpc';
import {
  coinRowOf,
  ledgerRowOf,
  type Cancellation,
  type CoinColumns,
  type LedgerEngine,
  type LedgerItem,
  type LedgerRow,
  type OutcomeColumns,
  type PricesResult,
  type PriceTick,
} from './ledger-item.ts';
import { PendingQueue } from './ledger-queue.ts';
import { MAX_UNITS } from './money.ts';

/** How long a batch waits for another connection's (another process's) write lock; then UNAVAILABLE "Database busy". */
const BUSY_TIMEOUT_MS = 5_000;
/** Most operations in one transaction. */
const MAX_BATCH = 256;
/** Operations waiting for their transaction; past that a call is refused at once. */
const MAX_QUEUE = 4096;

type ErrorInfo = { message: string; code?: string };
type Result = { outcome: LedgerRow['outcome']; columns?: OutcomeColumns } | { error: ErrorInfo; committed?: boolean };
type Reply = { id: number; results?: Result[]; coins?: CoinColumns[]; missing?: string; error?: ErrorInfo };

/** An error from the writer thread, with its SQLite code so that the boundary can classify it (SQLITE_BUSY: "Database busy"). */
const errorOf = (info: ErrorInfo) => Object.assign(new Error(info.message), { code: info.code });

/**
 * SQLite's money path, a writer queue. SQLite has one writer, so operations queue (bounded) in
 * the order they arrive, and those waiting together are applied in one write transaction
 * (BEGIN IMMEDIATE, a few statements each, COMMIT): one commit serves the batch, and a wallet is
 * never locked across an await. Each operation succeeds or fails on its own (its checks come
 * before its writes, and it runs in a savepoint). The transaction runs on a thread of its own
 * (ledger-sqlite-writer.mjs, its own connection), so neither the commit's fsync (synchronous FULL:
 * an answered operation survives a power cut), nor WAL checkpoints, nor a wait for another
 * process's write lock ever stops the server's event loop: other calls are answered meanwhile.
 * A batch that waits over BUSY_TIMEOUT_MS for the lock answers UNAVAILABLE "Database busy"
 * (retryable, nothing applied; not an outage). Amounts are added in BigInt and checked against
 * MAX_UNITS before they are written; the tables' CHECK constraints refuse anything else.
 */
export class SqliteLedger implements LedgerEngine {
  private readonly queue = new PendingQueue(MAX_QUEUE);
  private writer: WriterThread | undefined;
  private writing = false;

  constructor(private readonly file: string) {}

  apply(item: LedgerItem, signal?: Cancellation): Promise<LedgerRow> {
    return this.queue.add(item, signal, () => this.pump());
  }

  /** A price batch, on the writer thread between two money batches (one writer: they never overlap). */
  async setPrices(ticks: PriceTick[]): Promise<PricesResult> {
    this.writer ??= new WriterThread(this.file, () => (this.writer = undefined));
    const reply = await this.writer.send({ prices: ticks });
    return reply.missing !== undefined ? { missing: reply.missing } : { coins: reply.coins!.map(coinRowOf) };
  }

  /** One batch at a time: the next one leaves when the last one is answered. */
  private pump(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    // Calls that arrive in the same turn of the event loop join the same batch.
    setImmediate(
      () =>
        void this.write().finally(() => {
          this.writing = false;
          this.pump();
        }),
    );
  }

  private async write(): Promise<void> {
    const batch = this.queue.take(MAX_BATCH);
    if (batch.length === 0) return;
    let results: Result[];
    try {
      this.writer ??= new WriterThread(this.file, () => (this.writer = undefined));
      results = await this.writer.apply(batch.map((p) => p.item));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    results.forEach((r, i) => {
      const p = batch[i]!;
      if ('error' in r) {
        // An operation that committed but whose row could not be read back: its key tells the retry.
        p.reject(
          r.committed
            ? new GrpcError(Status.UNAVAILABLE, 'Applied, but its result could not be read; retry with the same idempotency_key')
            : errorOf(r.error),
        );
      } else if (!r.columns) p.resolve({ outcome: r.outcome, transfer: null, wallet: null, trade: null });
      else p.resolve(ledgerRowOf({ ...r.columns, outcome: r.outcome }));
    });
  }
}

/** The writer thread: started on first use, replaced if it ever stops. */
class WriterThread {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private readonly waiting = new Map<number, { resolve(reply: Reply): void; reject(err: unknown): void }>();
  private nextId = 0;

  constructor(file: string, onStopped: () => void) {
    this.worker = new Worker(new URL('./ledger-sqlite-writer.mjs', import.meta.url), {
      workerData: { file, busyTimeoutMs: BUSY_TIMEOUT_MS, maxUnits: MAX_UNITS },
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (msg: Reply | { ready: boolean; error?: ErrorInfo }) => {
        if ('ready' in msg) {
          if (msg.ready) return resolve();
          onStopped(); // it could not open the database: the next batch starts a new one
          void this.worker.terminate();
          return reject(errorOf(msg.error!));
        }
        const w = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        if (msg.error) w?.reject(errorOf(msg.error));
        else w?.resolve(msg);
      });
      const stopped = (why: string) => {
        onStopped();
        const err = new GrpcError(
          Status.UNAVAILABLE,
          `The ledger's writer stopped (${why}): whether these operations were applied is not known; retry with the same idempotency_key`,
        );
        reject(err);
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      };
      this.worker.on('error', (err) => stopped(err.message));
      this.worker.on('exit', (code) => stopped(`exit ${code}`));
    });
    this.ready.catch(() => {}); // apply() reports it
    // Never keeps the process alive on its own. After the listeners: a 'message' listener added to
    // a Worker refs its port again (an in-process server's owner then never exits).
    this.worker.unref();
  }

  async apply(items: LedgerItem[]): Promise<Result[]> {
    return (await this.send({ items })).results!;
  }

  /** Posts a message (a money batch or a price batch); resolves with its reply. */
  async send(message: { items: LedgerItem[] } | { prices: PriceTick[] }): Promise<Reply> {
    await this.ready;
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...message });
    });
  }
}
