import type { Transport, TransportSink } from './transport.ts';

/** This process only (backend "local"), or nothing at all ("off"): events reach this process's subscribers. */
export class LocalTransport implements Transport {
  readonly transactional = false;
  constructor(readonly backend: 'local' | 'off') {}
  start(sink: TransportSink): void {
    if (this.backend === 'local') sink.up(false);
  }
  async send(): Promise<void> {}
  ping(token: string): void {
    void token;
  }
  async close(): Promise<void> {}
}
