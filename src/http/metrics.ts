import { collectDefaultMetrics, Counter, Gauge, type Registry } from 'prom-client';
import { poolStats, type Db } from '../db/client.ts';
import { DROP_REASONS, type DropReason } from '../ops/request-log.ts';
import type { Route } from './router.ts';

/**
 * Adds the database and process series to the registry the metrics interceptor fills:
 * cfg_db_info{provider} (always 1), cfg_db_pool_connections{state="total|idle|waiting"} for
 * PostgreSQL (pg's own pool counts, read at scrape time; SQLite has one embedded connection and no
 * pool, so these series are absent there), and prom-client's process_* and nodejs_* defaults.
 */
export function addProcessMetrics(registry: Registry, db: Db): void {
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'cfg_db_info',
    help: 'The database provider this server uses (value is always 1).',
    labelNames: ['provider'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ provider: db.provider }, 1);
    },
  });
  new Gauge({
    name: 'cfg_db_pool_connections',
    help: 'PostgreSQL pool connections: total open, idle, and queries waiting for one.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const stats = poolStats(db);
      if (!stats) return;
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
}

/** What /metrics shows of the request log writer (src/ops/request-log.ts). */
export interface RequestLogCounts {
  readonly written: number;
  readonly droppedBy: Readonly<Record<DropReason, number>>;
}

/**
 * cfg_request_log_written_total and cfg_request_log_dropped_total{reason="queue_full|write_failed|after_close"},
 * read from the writer at scrape time.
 */
export function addRequestLogMetrics(registry: Registry, writer: RequestLogCounts): void {
  new Counter({
    name: 'cfg_request_log_written_total',
    help: 'Request log rows written to grpc_request_log.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(writer.written);
    },
  });
  new Counter({
    name: 'cfg_request_log_dropped_total',
    help: 'Request log records dropped: queue_full (grpc.requestLog.maxPending reached while the database was behind), write_failed (the database refused a batch), after_close.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const reason of DROP_REASONS) this.inc({ reason }, writer.droppedBy[reason]);
    },
  });
}

/** GET /metrics: the Prometheus text format. */
export function metricsRoute(registry: Registry): Route {
  return {
    method: 'GET',
    path: '/metrics',
    access: 'metrics',
    async handle() {
      return { body: await registry.metrics(), contentType: registry.contentType };
    },
  };
}
