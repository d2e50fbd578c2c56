// What the web protocols say on the wire, apart from any call: content types, Connect's error
// codes and their HTTP statuses, timeouts, and the headers that are protocol rather than metadata.
import { Status } from '../../call/error.ts';

/** How a request's body is framed and encoded, read from its content type. */
export type WireFormat =
  /** Connect unary: the body is the message (application/proto, application/json). */
  | { readonly protocol: 'connect'; readonly streaming: false; readonly json: boolean; readonly contentType: string }
  /** Connect streaming: enveloped messages, then an end-stream message (application/connect+proto, +json). */
  | { readonly protocol: 'connect'; readonly streaming: true; readonly json: boolean; readonly contentType: string }
  /** gRPC-Web: length-prefixed frames, trailers in a last frame; `text` is the base64 variant. */
  | {
      readonly protocol: 'grpc-web';
      readonly streaming: boolean;
      readonly json: false;
      readonly text: boolean;
      readonly contentType: string;
    };

const FORMATS: Record<string, WireFormat> = {
  'application/proto': { protocol: 'connect', streaming: false, json: false, contentType: 'application/proto' },
  'application/json': { protocol: 'connect', streaming: false, json: true, contentType: 'application/json' },
  'application/connect+proto': { protocol: 'connect', streaming: true, json: false, contentType: 'application/connect+proto' },
  'application/connect+json': { protocol: 'connect', streaming: true, json: true, contentType: 'application/connect+json' },
  'application/grpc-web': { protocol: 'grpc-web', streaming: true, json: false, text: false, contentType: 'application/grpc-web+proto' },
  'application/grpc-web+proto': {
    protocol: 'grpc-web',
    streaming: true,
    json: false,
    text: false,
    contentType: 'application/grpc-web+proto',
  },
  'application/grpc-web-text': {
    protocol: 'grpc-web',
    streaming: true,
    json: false,
    text: true,
    contentType: 'application/grpc-web-text+proto',
  },
  'application/grpc-web-text+proto': {
    protocol: 'grpc-web',
    streaming: true,
    json: false,
    text: true,
    contentType: 'application/grpc-web-text+proto',
  },
};

/** The content types served, for a 415's message and its Accept-Post header. */
export const ACCEPTED_TYPES = Object.keys(FORMATS).join(', ');

/** The wire format of a content type ("application/json; charset=utf-8"), or undefined when it is not one cfg serves. */
export function wireFormat(contentType: string | undefined): WireFormat | undefined {
  if (contentType === undefined) return undefined;
  const exact = FORMATS[contentType];
  if (exact) return exact;
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  const format = FORMATS[type];
  if (!format || semi < 0) return format;
  // Only UTF-8 text is read: a charset parameter naming anything else is refused.
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType.slice(semi));
  return charset && !/^utf-?8$/i.test(charset[1]!) ? undefined : format;
}

/** Connect's name of each status code (https://connectrpc.com/docs/protocol#error-codes). */
export const CONNECT_CODE: readonly string[] = [
  'ok',
  'canceled',
  'unknown',
  'invalid_argument',
  'deadline_exceeded',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'internal',
  'unavailable',
  'data_loss',
  'unauthenticated',
];

/** The HTTP status of a Connect unary error, by status code. */
export const CONNECT_HTTP_STATUS: readonly number[] = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

/** Connect's error JSON: `{"code":"not_found","message":"Coin XYZ not found"}`. */
export function connectErrorJson(code: Status, message: string): string {
  return message
    ? `{"code":"${CONNECT_CODE[code] ?? 'unknown'}","message":${JSON.stringify(message)}}`
    : `{"code":"${CONNECT_CODE[code] ?? 'unknown'}"}`;
}

/** Longest Connect-Timeout-Ms: ten digits (the protocol's bound). */
const CONNECT_TIMEOUT = /^\d{1,10}$/;
const GRPC_TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const GRPC_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/** Milliseconds from a Connect-Timeout-Ms header; undefined when absent; NaN when malformed. */
export function connectTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' && CONNECT_TIMEOUT.test(value) ? Number(value) : NaN;
}

/** Milliseconds from a grpc-timeout header ("1S", "250m"); undefined when absent; NaN when malformed. */
export function grpcTimeout(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? GRPC_TIMEOUT.exec(value) : null;
  return match ? Number(match[1]) * GRPC_UNIT_MS[match[2]!]! : NaN;
}

/** The request headers gRPC-Web and Connect themselves define (CORS lets a page send them; they are not metadata). */
export const PROTOCOL_HEADERS: readonly string[] = [
  'connect-protocol-version',
  'connect-timeout-ms',
  'connect-content-encoding',
  'connect-accept-encoding',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'x-grpc-web',
  'x-user-agent',
];

/**
 * Headers that are the protocol's, not the call's metadata: HTTP/2 pseudo-headers and these. The
 * rest (authorization, x-api-key, traceparent, user-agent, custom ones) reach the call as metadata.
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'content-type',
  'content-length',
  'content-encoding',
  'accept-encoding',
  'accept',
  'origin',
  'referer',
  'access-control-request-method',
  'access-control-request-headers',
  ...PROTOCOL_HEADERS,
]);

/** True when a comma-separated Accept-Encoding style list names gzip. */
export function acceptsGzip(value: string | string[] | undefined): boolean {
  return typeof value === 'string' && value.includes('gzip');
}

/** Messages of at least this many bytes are compressed for a client that accepts gzip. */
export const COMPRESS_MIN_BYTES = 1024;

export { Status };
