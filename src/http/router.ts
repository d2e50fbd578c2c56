import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AuthUser } from '../auth/types.ts';

/** An error answered as `{ "error": code, "message": message }` with this HTTP status. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    /** A stable machine-readable code: "bad_request", "unauthenticated", "forbidden", "not_found", ... */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, 'bad_request', message);

/** What a route handler sees of a request. */
export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  /** `:name` segments of the route's pattern, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The query string's name=value pairs in order, decoded (parseQuery). */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** The authenticated staff user (null on public routes). */
  readonly user: AuthUser | null;
  /** The body parsed as JSON; a 400 HttpError when it is not JSON or too large. */
  json(): Promise<unknown>;
}

/** What a handler answers: JSON, or text/bytes with a content type. */
export type HttpReply =
  | { status?: number; json: unknown }
  | { status?: number; body: string | Buffer; contentType: string; headers?: Record<string, string> }
  /** A reply the handler writes itself, as it happens (the request console's streams). */
  | { stream: (res: ServerResponse) => Promise<void> };

/** "staff": a staff user's token or API key; "public": anyone; "metrics": public when grpc.http.publicMetrics. */
export type RouteAccess = 'staff' | 'public' | 'metrics';

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** "/api/keys/:id" */
  readonly path: string;
  readonly access: RouteAccess;
  handle(req: HttpRequest): Promise<HttpReply> | HttpReply;
}

export type Match = { route: Route; params: Record<string, string> } | { allowed: string[] } | null;

/**
 * The one place the side port decodes percent-escapes (path parameters and the query string).
 * A malformed escape ("%E0%A4%A", "%zz", bytes that are not UTF-8) is the client's mistake: a 400
 * naming the part, never a URIError (500), and never a silently mangled value.
 */
export function decodeComponent(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw badRequest(
      `${what} is not validly percent-encoded (got ${JSON.stringify(raw)}): each % must begin an escape %XX, and the escapes must spell UTF-8.`,
    );
  }
}

/** The route for a method and (still encoded) path; `{ allowed }` when the path exists for other methods only. */
export function matchRoute(routes: readonly Route[], method: string, path: string): Match {
  const parts = path.split('/');
  const allowed: string[] = [];
  for (const route of routes) {
    const pattern = route.path.split('/');
    if (pattern.length !== parts.length) continue;
    const raw: Array<[string, string]> = [];
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i]!;
      if (p.startsWith(':')) {
        if (parts[i] === '') ok = false;
        else raw.push([p.slice(1), parts[i]!]);
      } else ok = p === parts[i];
    }
    if (!ok) continue;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
      // Decoded only once the route matched: a bad escape in a path no route takes stays a 404.
      const params = Object.fromEntries(raw.map(([name, value]) => [name, decodeComponent(value, `Path parameter "${name}"`)]));
      return { route, params };
    }
    allowed.push(route.method);
  }
  return allowed.length ? { allowed } : null;
}

/** The query string ("?a=1&b=x+y") as decoded name=value pairs ("+" is a space, as in forms). */
export function parseQuery(search: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = (eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' ');
    const rawValue = (eq < 0 ? '' : part.slice(eq + 1)).replace(/\+/g, ' ');
    const name = decodeComponent(rawName, 'A query parameter name');
    out.push([name, decodeComponent(rawValue, `Query parameter "${name}"`)]);
  }
  return out;
}

/** Query parameters a route accepts; any other is refused, so a typo never silently matches everything. */
export function queryParams(req: Pick<HttpRequest, 'query'>, known: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of req.query) {
    if (!known.includes(key))
      throw badRequest(`Unknown query parameter "${key}"; this endpoint accepts ${known.map((k) => `"${k}"`).join(', ')}.`);
    if (key in out) throw badRequest(`Query parameter "${key}" is given twice.`);
    out[key] = value;
  }
  return out;
}

/** An integer query parameter within bounds, or the fallback when it is absent. */
export function intParam(name: string, raw: string | undefined, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw badRequest(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)}).`);
  }
  return Number(raw);
}
