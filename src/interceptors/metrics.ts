import { Registry, type Metric } from 'prom-client';
import { Status, statusName } from '../call/error.ts';
import type { CallProtocol } from '../call/context.ts';
import type { MethodInfo } from '../call/method.ts';
import type { Interceptor } from '../call/interceptor.ts';

/** Every gRPC status code, 0 (OK) to 16 (UNAUTHENTICATED). */
const CODES: readonly number[] = Object.values(Status);

/** Latency buckets in seconds: 1 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const TYPES = { unary: 'unary', serverStream: 'server_stream', clientStream: 'client_stream', bidi: 'bidi_stream' } as const;

type Labels = Readonly<Record<string, string | number>>;

/** One method's numbers: plain fields a call bumps; label sets built once, at start-up. */
class MethodSeries {
  started = 0;
  inFlight = 0;
  readonly handled = new Array<number>(CODES.length).fill(0);
  /** Per bucket (not cumulative), the last one being +Inf. */
  readonly buckets = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  count = 0;
  sum = 0;
  readonly labels: Labels;
  readonly codeLabels: Labels[];
  readonly bucketLabels: Labels[];

  constructor(method: MethodInfo, protocol: CallProtocol) {
    this.labels = { grpc_service: method.service, grpc_method: method.name, grpc_type: TYPES[method.kind], protocol };
    this.codeLabels = CODES.map((code) => ({ ...this.labels, grpc_code: statusName(code) }));
    this.bucketLabels = [...LATENCY_BUCKETS.map((le) => ({ ...this.labels, le })), { ...this.labels, le: '+Inf' }];
  }

  observe(seconds: number, code: number): void {
    this.inFlight--;
    this.handled[code] = (this.handled[code] ?? 0) + 1;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    this.buckets[i]!++;
    this.count++;
    this.sum += seconds;
  }
}

/** The metrics interceptor and the registry its series live in. */
export interface CallMetrics extends Interceptor {
  readonly registry: Registry;
}

type Value = { value: number; labels: Labels; metricName?: string };

/** A series family read from the per-method numbers at scrape time (prom-client's collector contract). */
function family(registry: Registry, name: string, help: string, type: 'counter' | 'gauge' | 'histogram', read: () => Value[]): void {
  const metric = { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: read() }) };
  registry.registerMetric(metric as unknown as Metric);
}

/**
 * Prometheus series per method, named as go-grpc-prometheus names them so existing dashboards
 * work: grpc_server_started_total, grpc_server_handled_total (by grpc_code), the
 * grpc_server_handling_seconds histogram, and the grpc_server_in_flight gauge, each with a
 * `protocol` label ("grpc", "grpc-web", "connect": the transport the call came over). Each method's
 * numbers and label sets are made in appliesTo, once per method at start-up for native gRPC (every
 * status code is exported from zero) and on a method's first call over a web protocol; a call
 * costs two map lookups and a few additions — no label set, string or hash is built per call, and
 * no step is added to it (an observer). Prometheus reads the numbers at scrape time.
 */
export function callMetrics(registry: Registry = new Registry()): CallMetrics {
  const byPath = new Map<string, Partial<Record<CallProtocol, MethodSeries>>>();
  const all = () =>
    [...byPath.values()].flatMap((p) => [p.grpc, p['grpc-web'], p.connect].filter((m): m is MethodSeries => m !== undefined));
  family(registry, 'grpc_server_started_total', 'RPCs started on the server.', 'counter', () =>
    all().map((m) => ({ value: m.started, labels: m.labels })),
  );
  family(registry, 'grpc_server_handled_total', 'RPCs completed on the server, by status code.', 'counter', () =>
    all().flatMap((m) => CODES.map((code, i) => ({ value: m.handled[code]!, labels: m.codeLabels[i]! }))),
  );
  family(registry, 'grpc_server_handling_seconds', 'Time from the call reaching cfg to its status, in seconds.', 'histogram', () =>
    all().flatMap((m) => {
      let cumulative = 0;
      const out: Value[] = m.buckets.map((n, i) => ({
        metricName: 'grpc_server_handling_seconds_bucket',
        value: (cumulative += n),
        labels: m.bucketLabels[i]!,
      }));
      out.push({ metricName: 'grpc_server_handling_seconds_sum', value: m.sum, labels: m.labels });
      out.push({ metricName: 'grpc_server_handling_seconds_count', value: m.count, labels: m.labels });
      return out;
    }),
  );
  family(registry, 'grpc_server_in_flight', 'RPCs running now.', 'gauge', () =>
    all().map((m) => ({ value: m.inFlight, labels: m.labels })),
  );

  const seriesOf = (method: MethodInfo, protocol: CallProtocol): MethodSeries => {
    let protocols = byPath.get(method.path);
    if (!protocols) byPath.set(method.path, (protocols = {}));
    return (protocols[protocol] ??= new MethodSeries(method, protocol));
  };

  return {
    name: 'metrics',
    registry,
    appliesTo(method) {
      seriesOf(method, 'grpc');
      return true;
    },
    onStart(ctx) {
      const m = byPath.get(ctx.method.path)?.[ctx.protocol] ?? seriesOf(ctx.method, ctx.protocol);
      m.started++;
      m.inFlight++;
    },
    onEnd(ctx, end) {
      (byPath.get(ctx.method.path)?.[ctx.protocol] ?? seriesOf(ctx.method, ctx.protocol)).observe(end.durationMs / 1000, end.code);
    },
  };
}
