// CORS for the web listener: which pages (origins) may call, which headers they may send and read.
// A request or preflight from an origin not allowed is refused by the router before anything runs.
import type { OutgoingHttpHeaders } from 'node:http';
import type { GrpcWebConfig } from '../../config/types.ts';
import { PROTOCOL_HEADERS } from './protocol.ts';

/** Headers a page may always send: the protocols' own, auth, tracing. */
const ALWAYS_ALLOWED = ['content-type', ...PROTOCOL_HEADERS, 'traceparent', 'tracestate'];
/** Response headers a page may read: the status and encodings (trailers of gRPC-Web are in the body). */
const EXPOSED = 'grpc-status, grpc-message, grpc-status-details-bin, grpc-encoding, content-encoding, connect-content-encoding';

export class CorsPolicy {
  private readonly exact: ReadonlySet<string>;
  private readonly patterns: readonly RegExp[];
  private readonly any: boolean;
  private readonly allowHeaders: string;
  private readonly maxAge: string;
  /** Per allowed origin, the headers of its answers (a few origins: made once each). */
  private readonly byOrigin = new Map<string, OutgoingHttpHeaders>();

  constructor(cors: GrpcWebConfig['cors'], authHeaders: readonly string[]) {
    const origins = cors.allowedOrigins.map((o) => o.toLowerCase());
    this.any = origins.includes('*');
    this.exact = new Set(origins.filter((o) => !o.includes('*')));
    this.patterns = origins
      .filter((o) => o.includes('*.'))
      .map(
        (o) =>
          new RegExp(
            `^${o
              .replace(/[.+?^${}()|[\]\\/]/g, '\\$&')
              .replace('\\*\\.', '[a-z0-9-]+(\\.[a-z0-9-]+)*\\.')
              .replace('*\\.', '[a-z0-9-]+(\\.[a-z0-9-]+)*\\.')}$`,
          ),
      );
    const headers = new Set([
      ...ALWAYS_ALLOWED,
      ...authHeaders.filter(Boolean).map((h) => h.toLowerCase()),
      ...cors.allowedHeaders.map((h) => h.toLowerCase()),
    ]);
    this.allowHeaders = [...headers].join(', ');
    this.maxAge = String(cors.maxAgeSeconds);
  }

  /** True when a page of `origin` may call. */
  allows(origin: string): boolean {
    if (this.any) return true;
    const o = origin.toLowerCase();
    return this.exact.has(o) || this.patterns.some((p) => p.test(o));
  }

  /** Headers on every answer to an allowed origin's request. */
  headersFor(origin: string): OutgoingHttpHeaders {
    let headers = this.byOrigin.get(origin);
    if (!headers) {
      headers = { 'access-control-allow-origin': origin, 'access-control-expose-headers': EXPOSED, vary: 'Origin' };
      if (this.byOrigin.size < 1000) this.byOrigin.set(origin, headers);
    }
    return headers;
  }

  /** The answer to an allowed origin's preflight. */
  preflight(origin: string): OutgoingHttpHeaders {
    return {
      ...this.headersFor(origin),
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': this.allowHeaders,
      'access-control-max-age': this.maxAge,
    };
  }
}
