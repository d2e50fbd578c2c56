/** What a transport tells the channel that owns it. */
export interface TransportSink {
  /** A message from the channel (wire.ts text); in the order the channel delivered it. */
  message(text: string): void;
  /** A heartbeat token sent by ping() has come back, after every message sent before it. */
  pong(token: string): void;
  /** The connection is up (first time, or again after a loss: then events may have been missed). */
  up(again: boolean): void;
  /** The connection is lost; the transport reconnects by itself. */
  down(reason: string): void;
}

/** A prepared statement's runner inside a write's transaction (a Prisma transaction client will do). */
export interface TxClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** One way of carrying events between the processes of a deployment. */
export interface Transport {
  readonly backend: 'postgresql' | 'redis' | 'sqlite' | 'local' | 'off';
  /**
   * Events written inside a database transaction (publishIn, triggers) reach the other processes
   * when, and only if, it commits, in commit order: caches may trust them.
   */
  readonly transactional: boolean;
  start(sink: TransportSink): void;
  /** To every other process (resolves once handed to the channel). */
  send(topic: string, text: string, origin: string): Promise<void>;
  /** Within a write's transaction (transactional transports only). */
  sendIn?(tx: TxClient, topic: string, text: string): Promise<void>;
  /** A large event's data, by the key its message carries. */
  readBack?(key: number | string): Promise<string | undefined>;
  /** Sends a heartbeat through the channel, to this process only; it comes back as sink.pong(token). */
  ping(token: string): void;
  close(): Promise<void>;
}

/** Back-off for reconnecting: 100 ms doubling up to `max`, with jitter. */
export function backoff(attempt: number, max: number): number {
  const base = Math.min(max, 100 * 2 ** Math.min(attempt, 16));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}
