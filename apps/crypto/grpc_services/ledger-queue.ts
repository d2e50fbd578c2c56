import { GrpcError, Status } from 'cfg-grpc';
import type { Cancellation, LedgerItem, LedgerRow } from './ledger-item.ts';

/** An operation waiting for its batch, with the call's promise to settle. */
export interface Pending {
  item: LedgerItem;
  signal: Cancellation | undefined;
  /** When it was queued (performance.now()). */
  since: number;
  resolve(row: LedgerRow): void;
  reject(err: unknown): void;
}

/**
 * The operations of one process waiting to be applied, in order, bounded: past `max` a call is
 * refused at once (UNAVAILABLE, nothing applied) instead of queueing without end.
 */
export class PendingQueue {
  private items: Pending[] = [];

  constructor(private readonly max: number) {}

  get length(): number {
    return this.items.length;
  }

  /** Queues an operation; `onQueued` runs once it is in (to schedule a batch). */
  add(item: LedgerItem, signal: Cancellation | undefined, onQueued: () => void): Promise<LedgerRow> {
    if (this.items.length >= this.max) {
      return Promise.reject(
        new GrpcError(Status.UNAVAILABLE, `Server busy: ${this.max} money operations are waiting; nothing was applied, retry`),
      );
    }
    return new Promise((resolve, reject) => {
      this.items.push({ item, signal, since: performance.now(), resolve, reject });
      onQueued();
    });
  }

  /**
   * The next batch, oldest first: up to `max` operations, each (user, key) once (a repeat stays for
   * the next batch, which then finds the first one's result). Operations whose caller has gone are
   * dropped unapplied.
   */
  take(max: number): Pending[] {
    const keys = new Set<string>();
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.items) {
      if (p.signal?.aborted) {
        p.reject(new GrpcError(Status.CANCELLED, 'Call cancelled before it was applied; nothing was applied'));
        continue;
      }
      const key = `${p.item.userId} ${p.item.idempotencyKey}`;
      if (batch.length < max && !keys.has(key)) {
        keys.add(key);
        batch.push(p);
      } else rest.push(p);
    }
    this.items = rest;
    return batch;
  }

  /** Puts operations back at the front (their batch could not run; they keep their place). */
  putBack(items: Pending[]): void {
    this.items = [...items, ...this.items];
  }
}
