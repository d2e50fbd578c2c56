import type { PriceUpdate } from '../../../generated/crypto_service.ts';

type Listener = (update: PriceUpdate) => void;

/**
 * In-process fan-out of price changes to WatchPrices subscribers. Each subscriber has a
 * bounded queue (a slow client loses the oldest updates, never the server's memory) and is
 * removed when its call ends. Across processes (several rungrpc processes or servers) a
 * subscriber sees the changes written by its own process only.
 */
export class PriceBus {
  private readonly listeners = new Set<Listener>();

  get subscriberCount(): number {
    return this.listeners.size;
  }

  publish(update: PriceUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  /**
   * Calls `listener` with every update published from now until `signal` aborts or the returned
   * function is called; for a subscriber with a queue of its own (a Trade stream's).
   */
  listen(listener: Listener, signal: AbortSignal): () => void {
    const stop = () => {
      this.listeners.delete(listener);
      signal.removeEventListener('abort', stop);
    };
    if (signal.aborted) return () => {};
    this.listeners.add(listener);
    signal.addEventListener('abort', stop, { once: true });
    return stop;
  }

  /** Updates published from now until `signal` aborts. */
  async *subscribe(signal: AbortSignal, maxQueue = 1000): AsyncGenerator<PriceUpdate> {
    const queue: PriceUpdate[] = [];
    let wake: (() => void) | undefined;
    const listener: Listener = (update) => {
      if (queue.length >= maxQueue) queue.shift();
      queue.push(update);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.listeners.add(listener);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.listeners.delete(listener);
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** The bus shared by every CryptoService instance in this process. */
export const priceBus = new PriceBus();
