/** An event counted and reported at most once per interval, however often it happens. */
export interface RateLimited {
  /** Counts one occurrence: reported at once when none was reported in the last interval, else at the interval's end with the others. */
  hit(): void;
}

/**
 * The first occurrence is reported at once (`count` 1, `sinceMs` undefined); occurrences within
 * the next `intervalMs` are counted and reported together when it ends (`sinceMs` = intervalMs).
 * An interval with none ends the series: the next occurrence is reported at once again.
 */
export function rateLimited(intervalMs: number, report: (count: number, sinceMs: number | undefined) => void): RateLimited {
  let timer: NodeJS.Timeout | undefined;
  let pending = 0;
  const tick = () => {
    if (pending === 0) {
      timer = undefined;
      return;
    }
    const count = pending;
    pending = 0;
    report(count, intervalMs);
    timer = setTimeout(tick, intervalMs).unref();
  };
  return {
    hit() {
      if (timer) {
        pending++;
        return;
      }
      report(1, undefined);
      timer = setTimeout(tick, intervalMs).unref();
    },
  };
}
