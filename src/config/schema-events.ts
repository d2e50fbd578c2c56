// events: the channel between every process of a deployment (src/events/). Each setting once: its
// doc, its check (checks.ts), its default, and the environment variable that overrides it, if any.
import { int, oneOf, pattern, section } from './checks.ts';
import { env, settingMeta } from './meta.ts';

/** What carries events between processes; "auto" picks by database (docs/events.md). */
export const EVENT_BACKENDS = ['auto', 'postgresql', 'redis', 'sqlite', 'local', 'off'] as const;

export const events = section({
  /**
   * "auto": LISTEN/NOTIFY on PostgreSQL, the event table polled by data_version on SQLite.
   * "redis": Redis pub/sub (redisUrl). "local": this process only. "off": no channel (nothing is
   * published, and caches that need one stay off). Default "auto". Env: CFG_EVENTS.
   */
  backend: env('CFG_EVENTS', oneOf(EVENT_BACKENDS).default('auto')),
  /**
   * PostgreSQL: what the listening connection connects to, when not database.url's server: LISTEN
   * needs a session of its own, which a transaction-pooling PgBouncer does not give (point this
   * past it, at PostgreSQL itself). The schema is database.url's. Default null. Env: CFG_EVENTS_LISTEN_URL.
   */
  listenUrl: env(
    'CFG_EVENTS_LISTEN_URL',
    pattern(/^postgres(ql)?:\/\//, 'a "postgresql://..." URL')
      .nullable()
      .default(null)
      .register(settingMeta, { redact: true }),
  ),
  /** Redis server for backend "redis". Default "redis://127.0.0.1:6379". Env: CFG_REDIS_URL. */
  redisUrl: env(
    'CFG_REDIS_URL',
    pattern(/^rediss?:\/\//, 'a "redis://..." or "rediss://..." URL')
      .default('redis://127.0.0.1:6379')
      .register(settingMeta, { redact: true }),
  ),
  /**
   * How often each process proves its channel live: a heartbeat sent through the channel and
   * received back (every event committed before it was sent has then been received). Default 250 ms.
   */
  heartbeatMs: int(20, 60_000).default(250),
  /**
   * The most a coherent cache may lag the database: a process serves from its caches only while a
   * heartbeat sent at most this long ago has come back; otherwise (channel down or stalled) they
   * are off and reads go to the database. At least 2 x heartbeatMs. Default 1000 ms.
   */
  maxStalenessMs: int(50, 600_000).default(1000),
  /** SQLite: how often each process reads PRAGMA data_version to find new events. Default 5 ms. */
  pollMs: int(1, 10_000).default(5),
  /** Reconnect back-off after the channel's connection is lost: from 100 ms doubling up to this. Default 5000 ms. */
  maxBackoffMs: int(100, 600_000).default(5000),
});
