// The dashboard's request console: the app's methods with their request message's fields (from the
// descriptor set), and calls sent through the web listener (Connect JSON), as a browser client
// would send them, so that what the console shows (status, headers, trailers, time, each message
// of a stream as it comes) is what a client sees. Streams end when the page cancels them.
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { DescField, DescMessage, FileRegistry } from '@bufbuild/protobuf';
import { protobuf } from '../proto/protobuf.ts';
import { statusName } from '../call/error.ts';
import type { ServiceHost } from '../services/host.ts';
import { CONNECT_CODE } from '../transports/web/protocol.ts';
import { badRequest, HttpError, type Route } from './router.ts';

const { ScalarType } = protobuf;

/** One field of a request message, as the console's form shows it. */
export interface FieldView {
  /** The JSON name ("pageSize"). */
  readonly name: string;
  /** "scalar", "enum", "message", "list" or "map" (the last three are edited as JSON). */
  readonly kind: DescField['fieldKind'];
  /** "string", "int32", "bool", ... for a scalar; the type name for an enum or message. */
  readonly type: string;
  /** An enum's value names. */
  readonly values?: readonly string[];
}

export interface ConsoleMethod {
  readonly path: string;
  readonly kind: string;
  readonly requestType: string;
  readonly fields: readonly FieldView[];
}

const ANONYMOUS = 'anonymous';

/** Where the console reaches the web listener of its own process. */
export interface WebTarget {
  readonly host: string;
  readonly port: number;
  /** The web listener speaks TLS (grpc.server.tls): the console calls it over HTTPS, its own certificate not checked (loopback). */
  readonly secure: boolean;
}

function fieldView(f: DescField): FieldView {
  switch (f.fieldKind) {
    case 'scalar':
      return { name: f.jsonName, kind: 'scalar', type: ScalarType[f.scalar].toLowerCase() };
    case 'enum':
      return { name: f.jsonName, kind: 'enum', type: f.enum.typeName, values: f.enum.values.map((v) => v.name) };
    case 'message':
      return { name: f.jsonName, kind: 'message', type: f.message.typeName };
    case 'list':
      return {
        name: f.jsonName,
        kind: 'list',
        type: f.listKind === 'scalar' ? ScalarType[f.scalar].toLowerCase() : f.listKind === 'enum' ? f.enum.typeName : f.message.typeName,
      };
    case 'map':
      return { name: f.jsonName, kind: 'map', type: 'map' };
  }
}

/** GET /api/console and POST /api/console/call/:service/:method (staff). */
export function consoleRoutes(server: ServiceHost, registry: FileRegistry | undefined, web: WebTarget | undefined): Route[] {
  const methods: ConsoleMethod[] = [];
  for (const service of server.services) {
    if (service.builtin) continue;
    for (const m of service.methods) {
      const input: DescMessage | undefined = registry?.getService(m.service)?.methods.find((d) => d.name === m.name)?.input;
      methods.push({ path: m.path, kind: m.kind, requestType: input?.typeName ?? '', fields: input ? input.fields.map(fieldView) : [] });
    }
  }
  const paths = new Set(methods.map((m) => m.path));
  const kinds = new Map(methods.map((m) => [m.path, m.kind]));
  return [
    { method: 'GET', path: '/api/console', access: 'staff', handle: () => ({ json: { web: web !== undefined, methods } }) },
    {
      method: 'POST',
      path: '/api/console/call/:service/:method',
      access: 'staff',
      async handle(req) {
        if (!web)
          throw new HttpError(
            409,
            'web_disabled',
            'The request console sends calls through the web listener: turn on grpc.web in cfg.config.ts (or CFG_WEB=1).',
          );
        const path = `/${req.params.service}/${req.params.method}`;
        if (!paths.has(path)) throw new HttpError(404, 'not_found', `No method ${path} on this server.`);
        const kind = kinds.get(path);
        if (kind !== 'unary' && kind !== 'serverStream')
          throw badRequest(`${path} is ${kind}: the console sends unary and server-streaming calls.`);
        const json = Buffer.from(JSON.stringify(await req.json()));
        // A Connect stream's request is one enveloped message (a flag byte and a 4-byte length first).
        const body = kind === 'unary' ? json : Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), json]);
        if (kind !== 'unary') body.writeUInt32BE(json.length, 1);
        const headers: Record<string, string> = { 'content-type': kind === 'unary' ? 'application/json' : 'application/connect+json' };
        const as = String(req.headers['x-cfg-console-as'] ?? 'me');
        const credential = as === 'me' ? bearerOf(req.headers) : String(req.headers['x-cfg-console-credential'] ?? '');
        if (as !== ANONYMOUS && credential) {
          if (credential.startsWith('cfg_')) headers['x-api-key'] = credential;
          else headers.authorization = `Bearer ${credential}`;
        }
        return { stream: (res) => forward(res, web, path, headers, body, kind === 'serverStream') };
      },
    },
  ];
}

function bearerOf(headers: IncomingHttpHeaders): string {
  const value = headers.authorization ?? '';
  return value.replace(/^Bearer\s+/i, '');
}

const HIDDEN = new Set([
  'content-length',
  'content-type',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'vary',
  'access-control-allow-origin',
  'access-control-expose-headers',
]);

/** Response headers worth showing, and the trailers Connect sends as "trailer-" headers. */
function split(headers: IncomingHttpHeaders): { headers: Record<string, string>; trailers: Record<string, string> } {
  const out = { headers: {} as Record<string, string>, trailers: {} as Record<string, string> };
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || HIDDEN.has(key)) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (key.startsWith('trailer-')) out.trailers[key.slice(8)] = text;
    else out.headers[key] = text;
  }
  return out;
}

const statusOf = (connectCode: string | undefined) => {
  const code = Math.max(0, CONNECT_CODE.indexOf(connectCode ?? 'unknown'));
  return { code: code === 0 && connectCode !== 'ok' ? 2 : code, name: statusName(code === 0 && connectCode !== 'ok' ? 2 : code) };
};

/**
 * Makes the call on the web listener and writes NDJSON to the page as it happens: `{"headers"}`,
 * then `{"message"}` for each reply, then `{"status","trailers","ms"}`. The page closing its
 * request cancels the call.
 */
function forward(
  res: ServerResponse,
  web: WebTarget,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  streaming: boolean,
): Promise<void> {
  const started = performance.now();
  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  const line = (value: unknown) => res.write(`${JSON.stringify(value)}\n`);
  const ms = () => Math.round((performance.now() - started) * 100) / 100;
  return new Promise((resolve) => {
    const target = {
      host: web.host,
      port: web.port,
      method: 'POST',
      path,
      headers: { ...headers, 'content-length': body.length },
      agent: false,
    };
    const respond = (reply: http.IncomingMessage) => {
      const shown = split(reply.headers);
      line({ headers: shown.headers });
      const chunks: Buffer[] = [];
      let pending: Buffer = Buffer.alloc(0);
      reply.on('data', (chunk: Buffer) => {
        if (!streaming) return void chunks.push(chunk);
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
          const flags = pending[0]!;
          const payload = pending.subarray(5, 5 + pending.readUInt32BE(1)).toString('utf8');
          pending = pending.subarray(5 + pending.readUInt32BE(1));
          if ((flags & 0x02) === 0) line({ message: JSON.parse(payload) as unknown });
          else {
            const end = JSON.parse(payload) as { error?: { code: string; message?: string }; metadata?: Record<string, string[]> };
            const status = statusOf(end.error ? end.error.code : 'ok');
            const trailers = Object.fromEntries(Object.entries(end.metadata ?? {}).map(([k, v]) => [k, v.join(', ')]));
            line({ status: { ...status, message: end.error?.message ?? '' }, trailers, ms: ms() });
          }
        }
      });
      reply.on('end', () => {
        if (!streaming) {
          const text = Buffer.concat(chunks).toString('utf8');
          const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          if (reply.statusCode === 200) line({ message: parsed });
          const status = reply.statusCode === 200 ? statusOf('ok') : statusOf(String(parsed.code ?? 'unknown'));
          line({
            status: { ...status, message: reply.statusCode === 200 ? '' : String(parsed.message ?? '') },
            trailers: shown.trailers,
            httpStatus: reply.statusCode,
            ms: ms(),
          });
        }
        res.end();
        resolve();
      });
      reply.on('error', () => {
        res.end();
        resolve();
      });
    };
    const upstream = web.secure ? https.request({ ...target, rejectUnauthorized: false }, respond) : http.request(target, respond);
    upstream.on('error', (err) => {
      line({ status: { code: 14, name: 'UNAVAILABLE', message: `the web listener did not answer: ${err.message}` }, ms: ms() });
      res.end();
      resolve();
    });
    // The page cancelled (or went away): so does the call.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
      resolve();
    });
    upstream.end(body);
  });
}
