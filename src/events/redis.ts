import type { Redis, RedisOptions } from 'ioredis';
import { backoff, type Transport, type TransportSink } from './transport.ts';

export interface RedisTransportOptions {
  url: string;
  /** The deployment's channel (wire.ts redisChannel). */
  channel: string;
  /** This process's heartbeat channel. */
  pingChannel: string;
  maxBackoffMs: number;
  /** A subscriber connection whose heartbeats stop coming back for this long is dropped and made again. */
  stallMs: number;
  /** ioredis's Redis class (loaded only when this backend is chosen). */
  Redis: new (
    url: string,
    options: RedisOptions,
  ) => Redis;
}

/**
 * Redis pub/sub: one connection subscribed to the deployment's channel and this process's
 * heartbeat channel, one to publish (a subscribed connection cannot). Redis hands a subscriber
 * messages in the order it ran the PUBLISH commands, so a heartbeat's return proves that every
 * event published before it was received. Not transactional: an event is published after the
 * write it announces has committed (a process that dies in between never sends it), so coherent
 * caches stay off on this channel. ioredis reconnects (and resubscribes) with back-off; commands
 * sent meanwhile wait in its queue.
 */
export class RedisTransport implements Transport {
  readonly backend = 'redis' as const;
  readonly transactional = false;
  private readonly sub: Redis;
  private readonly pub: Redis;
  private connectedOnce = false;
  private isUp = false;
  private lastPong = 0;
  private readonly watchdog: NodeJS.Timeout;

  constructor(private readonly options: RedisTransportOptions) {
    const common: RedisOptions = {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      connectTimeout: 5_000,
      keepAlive: 10_000,
      retryStrategy: (times) => backoff(times, options.maxBackoffMs),
    };
    this.sub = new options.Redis(options.url, { ...common, connectionName: 'cfg-events-sub' });
    this.pub = new options.Redis(options.url, { ...common, connectionName: 'cfg-events-pub' });
    for (const c of [this.sub, this.pub]) c.on('error', () => {}); // reported as "down" below; ioredis retries
    this.watchdog = setInterval(() => this.checkStall(), Math.max(50, Math.floor(options.stallMs / 4)));
    this.watchdog.unref();
  }

  start(sink: TransportSink): void {
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.options.pingChannel) {
        this.lastPong = performance.now();
        sink.pong(message);
      } else if (channel === this.options.channel) sink.message(message);
    });
    // "ready" comes after ioredis has subscribed again on a new connection.
    this.sub.on('ready', () => {
      this.isUp = true;
      this.lastPong = performance.now();
      const again = this.connectedOnce;
      this.connectedOnce = true;
      sink.up(again);
    });
    this.sub.on('close', () => {
      if (!this.isUp) return;
      this.isUp = false;
      sink.down('connection to Redis closed');
    });
    void this.sub.connect().then(
      () => this.sub.subscribe(this.options.channel, this.options.pingChannel),
      () => {}, // retried by ioredis
    );
    void this.pub.connect().catch(() => {});
  }

  async send(_topic: string, text: string): Promise<void> {
    await this.pub.publish(this.options.channel, text);
  }

  ping(token: string): void {
    this.pub.publish(this.options.pingChannel, token).catch(() => {});
  }

  async close(): Promise<void> {
    clearInterval(this.watchdog);
    this.isUp = false;
    this.sub.disconnect();
    this.pub.disconnect();
  }

  private checkStall(): void {
    if (!this.isUp || performance.now() - this.lastPong <= this.options.stallMs) return;
    this.lastPong = performance.now();
    this.sub.disconnect(true); // and reconnect
  }
}
