import { setTimeout as sleep } from 'node:timers/promises';
import { status as Status } from '@grpc/grpc-js';

export interface ResumeOptions<T> {
  /** What an item is about (a coin's symbol): versions are compared per key. */
  key(item: T): string;
  /** The item's version, rising with each change of its key (an updated-at in ms). */
  version(item: T): number;
  /** Ends the subscription (the current call is cancelled). */
  signal?: AbortSignal;
  /** Statuses after which the stream is opened again. Default: UNAVAILABLE (a drained, stopped or unreachable server). */
  resumeOn?: readonly Status[];
  /** Failed opens in a row (nothing received between them) before the last error is thrown. Default 8. */
  maxAttempts?: number;
  /** Back-off before re-opening: doubles from this (with ±20 % jitter) up to `maxBackoffMs`. Default 100. */
  initialBackoffMs?: number;
  /** Default 5000. */
  maxBackoffMs?: number;
  /** Told of each resume, with the error that ended the previous stream. */
  onResume?(error: Error & { code?: number }, attempt: number): void;
}

/**
 * A server stream that outlives its server: when it ends with a resumable status it is opened
 * again (on whichever address the channel picks), and each item is passed on only when its
 * version is newer than the last one seen for its key, so a re-sent snapshot is not repeated.
 * Changes made while no stream was open arrive as the newest version a re-opened stream sends
 * (a stream that starts with current state, like WatchPrices), not one by one.
 */
export async function* resumable<T>(open: (signal: AbortSignal) => AsyncIterable<T>, options: ResumeOptions<T>): AsyncGenerator<T> {
  const resumeOn = new Set<number>(options.resumeOn ?? [Status.UNAVAILABLE]);
  const maxAttempts = options.maxAttempts ?? 8;
  const initial = options.initialBackoffMs ?? 100;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  const seen = new Map<string, number>();
  let failures = 0;
  while (!options.signal?.aborted) {
    const controller = new AbortController();
    const stop = () => controller.abort();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const item of open(controller.signal)) {
        failures = 0;
        const key = options.key(item);
        const version = options.version(item);
        const last = seen.get(key);
        if (last !== undefined && version <= last) continue;
        seen.set(key, version);
        yield item;
      }
      return; // the server ended the stream: nothing to resume
    } catch (err) {
      const error = err as Error & { code?: number };
      if (options.signal?.aborted) return;
      if (typeof error.code !== 'number' || !resumeOn.has(error.code) || ++failures >= maxAttempts) throw err;
      options.onResume?.(error, failures);
      const backoff = Math.min(initial * 2 ** (failures - 1), maxBackoff) * (0.8 + Math.random() * 0.4);
      await sleep(backoff, undefined, { signal: options.signal }).catch(() => undefined);
    } finally {
      options.signal?.removeEventListener('abort', stop);
      controller.abort();
    }
  }
}
