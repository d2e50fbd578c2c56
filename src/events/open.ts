import type { CfgConfig } from '../config/types.ts';
import { dbTarget, sqlDriver, type Db } from '../db/client.ts';
import { EventChannel, type EventBackend } from './channel.ts';
import type { Topic } from './topic.ts';
import type { Transport } from './transport.ts';
import { encode, pgChannel, redisChannel } from './wire.ts';

/** The channel each open handle's server uses, so that code given only the database (auth) can publish. */
const channels = new WeakMap<object, EventChannel>();
/** Publish-only connections of handles outside a server whose backend is not the database (a command on "redis"). */
const publishers = new WeakMap<object, { publish(topic: string, text: string): Promise<void> }>();

/** The backend config.events.backend names for this database ("auto": the database's own). */
export function eventBackendFor(config: CfgConfig, db: Db): EventBackend {
  const wanted = config.events.backend;
  if (wanted !== 'auto') return wanted;
  return db.provider === 'postgresql' ? 'postgresql' : 'sqlite';
}

/**
 * Opens the event channel of a server on `db` (startServer does; closed by its stop()): the
 * backend config.events chooses, connecting in the background (its state says how far it got).
 */
export async function openEvents(config: CfgConfig, db: Db): Promise<EventChannel> {
  const backend = eventBackendFor(config, db);
  const { heartbeatMs, maxBackoffMs, pollMs } = config.events;
  const maxStalenessMs = Math.max(config.events.maxStalenessMs, 2 * heartbeatMs);
  const stallMs = Math.max(3 * maxStalenessMs, 2_000);
  let transport: Transport;
  const target = dbTarget(db);
  if (backend === 'postgresql') {
    const driver = sqlDriver(db);
    if (driver.provider !== 'postgresql' || target.provider !== 'postgresql')
      throw new Error('events.backend "postgresql" needs a PostgreSQL database.url');
    const [{ PgTransport }, { default: pg }] = await Promise.all([import('./pg.ts'), import('pg')]);
    transport = new PgTransport({
      pool: driver.pool,
      connectionString: config.events.listenUrl ? listenTarget(config.events.listenUrl) : target.connectionString,
      channel: pgChannel(target.schema),
      maxBackoffMs,
      stallMs,
      newClient: (c) => new pg.Client(c),
    });
  } else if (backend === 'sqlite') {
    if (target.provider !== 'sqlite') throw new Error('events.backend "sqlite" needs a SQLite database.url');
    const [{ SqliteTransport }, { default: Database }] = await Promise.all([import('./sqlite.ts'), import('better-sqlite3')]);
    transport = new SqliteTransport({ file: target.file, pollMs, Database });
  } else if (backend === 'redis') {
    const [{ RedisTransport }, { Redis }] = await Promise.all([import('./redis.ts'), import('ioredis')]);
    const channel = redisChannel(target);
    transport = new RedisTransport({
      url: config.events.redisUrl,
      channel,
      pingChannel: `${channel}:ping:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
      maxBackoffMs,
      stallMs,
      Redis,
    });
  } else {
    const { LocalTransport } = await import('./local.ts');
    transport = new LocalTransport(backend);
  }
  const channel = new EventChannel(transport, { heartbeatMs, maxStalenessMs });
  channels.set(db, channel);
  const close = channel.close.bind(channel);
  channel.close = async () => {
    if (channels.get(db) === channel) channels.delete(db);
    await close();
  };
  return channel;
}

/** events.listenUrl without a schema parameter (the channel is database.url's schema's). */
function listenTarget(url: string): string {
  const u = new URL(url);
  u.searchParams.delete('schema');
  return u.toString();
}

/** The channel of the server serving `db` in this process, if any. */
export function eventsOf(db: Db): EventChannel | undefined {
  return channels.get(db);
}

/**
 * Publishes an event to every process serving the deployment of `db`, from anywhere: through the
 * channel of a server on `db` in this process, or else through the database itself (a `cfg`
 * command, a script): a NOTIFY on PostgreSQL, a row of cfg_event on SQLite, which every server
 * on that database's own channel receives. (Servers on the "redis" backend hear only what is
 * published through Redis: a server's.) Resolves once sent; never throws (false: not sent).
 */
export async function publishFor<T>(db: Db, topic: Topic<T>, data: T): Promise<boolean> {
  const channel = channels.get(db);
  try {
    if (channel) {
      await channel.publish(topic, data);
      return true;
    }
    const text = encode({ t: topic.name, d: data });
    const publisher = publishers.get(db);
    if (publisher) {
      await publisher.publish(topic.name, text);
      return true;
    }
    const target = dbTarget(db);
    if (target.provider === 'postgresql') {
      await db.$executeRawUnsafe('SELECT pg_notify($1, $2)', pgChannel(target.schema), text);
    } else {
      await db.$executeRawUnsafe('INSERT INTO "cfg_event" ("topic", "payload") VALUES (?, ?)', topic.name, text);
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * For code outside a server that changes what servers cache (a `cfg` command): when the
 * deployment's channel is not the database's own (backend "redis"), publishFor(db, ...) goes
 * through a publish-only connection made here; close it when done. On the other backends the
 * database carries the events and nothing is opened.
 */
export async function openPublisher(config: CfgConfig, db: Db): Promise<{ close(): Promise<void> }> {
  const backend = eventBackendFor(config, db);
  if (backend !== 'redis') return { close: async () => {} };
  const { Redis } = await import('ioredis');
  const redis = new Redis(config.events.redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    enableOfflineQueue: true,
  });
  redis.on('error', () => {});
  const channel = redisChannel(dbTarget(db));
  publishers.set(db, { publish: async (_topic, text) => void (await redis.publish(channel, text)) });
  return {
    async close() {
      publishers.delete(db);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
