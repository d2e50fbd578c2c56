import type { IncomingHttpHeaders } from 'node:http';
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
  /** `:name` segments of the route's pattern. */
  readonly params: Readonly<Record<string, string>>;
  /** The authenticated staff user (null on public routes). */
  readonly user: AuthUser | null;
  /** The body parsed as JSON; a 400 HttpError when it is not JSON or too large. */
  json(): Promise<unknown>;
}

/** What a handler answers: JSON, or text/bytes with a content type. */
export type HttpReply =
  | { status?: number; json: unknown }
  | { status?: number; body: string | Buffer; contentType: string; headers?: Record<string, string> };

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

/** The route for a method and path; `{ allowed }` when the path exists for other methods only. */
export function matchRoute(routes: readonly Route[], method: string, path: string): Match {
  const parts = path.split('/');
  const allowed: string[] = [];
  for (const route of routes) {
    const pattern = route.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      const p = pattern[i]!;
      if (p.startsWith(':')) {
        if (parts[i] === '') ok = false;
        else params[p.slice(1)] = decodeURIComponent(parts[i]!);
      } else ok = p === parts[i];
    }
    if (!ok) continue;
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
    allowed.push(route.method);
  }
  return allowed.length ? { allowed } : null;
}

/** Query parameters a route accepts; any other is refused, so a typo never silently matches everything. */
export function queryParams(url: URL, known: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of url.searchParams) {
    if (!known.includes(key)) throw badRequest(`Unknown query parameter "${key}"; this endpoint accepts ${known.map((k) => `"${k}"`).join(', ')}.`);
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
