// grpc.health.v1.Health/Check against a running server, for the tests that watch health change.
import { credentials } from '@grpc/grpc-js';
import { Health } from './health-client.ts';

/** The overall status: 1 SERVING, 2 NOT_SERVING. */
export function healthCheck(address: string): Promise<number> {
  const c = new Health(address, credentials.createInsecure()) as unknown as {
    check(r: unknown, o: { deadline: Date }, cb: (e: Error | null, v: { status: number }) => void): void;
    close(): void;
  };
  return new Promise((resolve, reject) =>
    c.check({ service: '' }, { deadline: new Date(Date.now() + 10_000) }, (e, v) => {
      c.close();
      if (e) reject(e);
      else resolve(v.status);
    }),
  );
}

/** Health every 100 ms until stopped: every status seen (-1: no answer). */
export function watchHealth(address: string): { stop(): Promise<number[]> } {
  const seen: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      seen.push(await healthCheck(address).catch(() => -1));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return seen;
    },
  };
}
