import type { Client, Pool } from 'pg';
import { getLogger } from '../log/logger.ts';
import { backoff, type Transport, type TransportSink, type TxClient } from './transport.ts';
import { MAX_INLINE_BYTES } from './wire.ts';

const log = getLogger('events');
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
/** Large events' rows are kept this long (every process has read them by then). */
const KEEP_MS = 60_000;

export interface PgTransportOptions {
  /** The server's pool: publishing, reading large events back. */
  pool: Pool;
  /** What the listening connection connects to (the pool's database, through the same URL). */
  connectionString: string;
  /** The deployment's channel (wire.ts pgChannel). */
  channel: string;
  maxBackoffMs: number;
  /** A connection whose heartbeats stop coming back for this long is dropped and made again. */
  stallMs: number;
  /** Makes a client (pg.Client), so that this module loads pg only when used. */
  newClient: (config: { connectionString: string; keepAlive: boolean; connectionTimeoutMillis: number }) => Client;
}

/**
 * LISTEN/NOTIFY on a connection of its own (not one of the pool's: a pooled connection is shared
 * and a LISTEN must stay). PostgreSQL delivers a notification when the transaction that sent it
 * commits, to every listener, in commit order; a heartbeat is a NOTIFY to this connection's own
 * channel (cfg_ping:<origin>), sent on it, so its return proves every notification committed
 * before it was received. The connection is made again with back-off when it breaks, or when
 * heartbeats stop coming back (a stalled network that does not close it).
 */
export class PgTransport implements Transport {
  readonly backend = 'postgresql' as const;
  readonly transactional = true;
  private sink: TransportSink | undefined;
  private client: Client | undefined;
  private closed = false;
  private connectedOnce = false;
  private attempt = 0;
  private retry: NodeJS.Timeout | undefined;
  private pingChannel = '';
  private lastPong = 0;
  private readonly watchdog: NodeJS.Timeout;
  private readonly pruner: NodeJS.Timeout;

  constructor(private readonly options: PgTransportOptions) {
    this.watchdog = setInterval(() => this.checkStall(), Math.max(50, Math.floor(options.stallMs / 4)));
    this.watchdog.unref();
    this.pruner = setInterval(() => void this.prune(), KEEP_MS);
    this.pruner.unref();
  }

  start(sink: TransportSink): void {
    this.sink = sink;
    void this.connect();
  }

  async send(topic: string, text: string, origin: string): Promise<void> {
    const { pool, channel } = this.options;
    if (Buffer.byteLength(text) <= MAX_INLINE_BYTES) {
      await pool.query('SELECT pg_notify($1, $2)', [channel, text]);
      return;
    }
    await pool.query(
      `WITH e AS (INSERT INTO "cfg_event" ("topic", "payload") VALUES ($1, $2) RETURNING "id")
       SELECT pg_notify($3, json_build_object('t', $1::text, 'k', e."id", 'o', $4::text)::text) FROM e`,
      [topic, text, channel, origin],
    );
  }

  async sendIn(tx: TxClient, topic: string, text: string): Promise<void> {
    const { channel } = this.options;
    if (Buffer.byteLength(text) <= MAX_INLINE_BYTES) {
      await tx.$executeRawUnsafe('SELECT pg_notify($1, $2)', channel, text);
      return;
    }
    await tx.$executeRawUnsafe(
      `WITH e AS (INSERT INTO "cfg_event" ("topic", "payload") VALUES ($1, $2) RETURNING "id")
       SELECT pg_notify($3, json_build_object('t', $1::text, 'k', e."id")::text) FROM e`,
      topic,
      text,
      channel,
    );
  }

  async readBack(key: number | string): Promise<string | undefined> {
    const { rows } = await this.options.pool.query<{ payload: string }>('SELECT "payload" FROM "cfg_event" WHERE "id" = $1', [Number(key)]);
    return rows[0]?.payload;
  }

  ping(token: string): void {
    const client = this.client;
    if (!client) return;
    client.query('SELECT pg_notify($1, $2)', [this.pingChannel, token]).catch(() => {}); // a broken connection reports itself
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.watchdog);
    clearInterval(this.pruner);
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = this.options.newClient({
      connectionString: this.options.connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    let lost = false;
    const onLost = (why: string) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (this.closed) return;
      if (this.connectedOnce) this.sink?.down(why);
      this.scheduleReconnect();
    };
    client.on('error', (err) => onLost(err.message));
    client.on('end', () => onLost('connection closed'));
    client.on('notification', (n) => {
      if (n.channel === this.pingChannel) {
        this.lastPong = performance.now();
        this.sink?.pong(n.payload ?? '');
      } else if (n.channel === this.options.channel && n.payload !== undefined) this.sink?.message(n.payload);
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      this.pingChannel = `cfg_ping:${rows[0]!.pid}`;
      await client.query(`LISTEN ${quote(this.options.channel)}; LISTEN ${quote(this.pingChannel)}`);
    } catch (err) {
      onLost((err as Error).message);
      return;
    }
    if (lost || this.closed) {
      void client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.attempt = 0;
    this.lastPong = performance.now();
    const again = this.connectedOnce;
    this.connectedOnce = true;
    this.sink?.up(again);
  }

  private scheduleReconnect(): void {
    clearTimeout(this.retry);
    const delay = backoff(this.attempt++, this.options.maxBackoffMs);
    log.debug(`event channel: reconnecting to PostgreSQL in ${delay} ms`);
    this.retry = setTimeout(() => void this.connect(), delay);
    this.retry.unref();
  }

  /** Heartbeats stopped coming back: the connection is stalled (not closed); drop it and connect again. */
  private checkStall(): void {
    const client = this.client;
    if (!client || performance.now() - this.lastPong <= this.options.stallMs) return;
    log.warn(`event channel: no heartbeat back from PostgreSQL for ${this.options.stallMs} ms; reconnecting`);
    client.emit('error', new Error('heartbeats stopped coming back'));
  }

  private async prune(): Promise<void> {
    try {
      await this.options.pool.query(`DELETE FROM "cfg_event" WHERE "createdAt" < now() - interval '${KEEP_MS / 1000} seconds'`);
    } catch {
      // the next minute's turn
    }
  }
}
