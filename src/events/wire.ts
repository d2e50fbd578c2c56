import { createHash } from 'node:crypto';
import type { DatabaseTarget } from '../db/url.ts';

/**
 * What travels between processes, as JSON text: `{"t": topic, "d": data}` for an event,
 * `{"t": topic, "k": key}` for an event too large for the channel (PostgreSQL: its data is a row
 * of cfg_event, read back by key), with `"o": origin` when the publishing process delivered it to
 * itself already (it then ignores its own copy). Database triggers write the same shape
 * (prisma/migrations/.../events/migration.sql).
 */
export interface WireEvent {
  t: string;
  d?: unknown;
  k?: number | string;
  o?: string;
}

/** NOTIFY's payload limit is 8000 bytes; past this, PostgreSQL events go through cfg_event. */
export const MAX_INLINE_BYTES = 7900;

export function encode(event: WireEvent): string {
  return JSON.stringify(event);
}

/** The event in `text`, or undefined when it is not one (a message of something else on the channel). */
export function decode(text: string): WireEvent | undefined {
  try {
    const value = JSON.parse(text) as WireEvent;
    return value !== null && typeof value === 'object' && typeof value.t === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The PostgreSQL NOTIFY channel of a deployment: one per schema, so that deployments (and test
 * runs) sharing a database never hear each other. The triggers compute the same from their
 * table's schema.
 */
export function pgChannel(schema: string): string {
  if (schema === 'public') return 'cfg_events';
  const named = `cfg_events:${schema}`;
  return Buffer.byteLength(named) <= 63 ? named : `cfg_events:${createHash('md5').update(schema).digest('hex')}`;
}

/** The Redis channel of a deployment: one per database it serves (a PostgreSQL schema, a SQLite file). */
export function redisChannel(target: DatabaseTarget): string {
  const where =
    target.provider === 'sqlite'
      ? `sqlite:${target.file}`
      : (() => {
          const u = new URL(target.connectionString);
          return `pg:${u.hostname}:${u.port || 5432}${u.pathname}:${target.schema}`;
        })();
  return `cfg:events:${createHash('sha1').update(where).digest('hex').slice(0, 16)}`;
}
