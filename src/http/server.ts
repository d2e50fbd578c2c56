import type { Socket } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { AuthUser } from '../auth/types.ts';
import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import { settingOrigin } from '../config/origin.ts';
import { listenError } from '../transports/listen.ts';
import type { CallMetrics } from '../interceptors/metrics.ts';
import { getLogger } from '../log/logger.ts';
import type { ServiceHost } from '../services/host.ts';
import { ConnectionCap } from '../transports/grpc/connection-cap.ts';
import { Status } from '../call/error.ts';
import { classify } from '../call/boundary.ts';
import { callsRoute, seriesRoute, statsRoute } from './api-calls.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { serversRoute } from './api-servers.ts';
import { meRoute, servicesRoute } from './api-services.ts';
import { httpAuthenticator } from './auth.ts';
import { consoleRoutes, type WebTarget } from './api-console.ts';
import { dashboardRoutes } from './dashboard.ts';
import type { FileRegistry } from '@bufbuild/protobuf';
import { addProcessMetrics, addRequestLogMetrics, metricsRoute, type RequestLogCounts } from './metrics.ts';
import { badRequest, HttpError, matchRoute, parseQuery, type HttpReply, type HttpRequest, type Route } from './router.ts';

const log = getLogger('grpc.http');
const MAX_BODY = 64 * 1024;

export interface HttpSidePortOptions {
  config: CfgConfig;
  /** The gRPC server this port describes. */
  server: ServiceHost;
  /** The metrics interceptor in the server's chain (its registry is what /metrics shows). */
  metrics: CallMetrics;
  /** The server's database handle (the dashboard's API reads and writes through it). */
  db: Db;
  /** The request log writer, when grpc.requestLog is on: its written and dropped counts go to /metrics. */
  requestLog?: RequestLogCounts;
  /** The web listener, when served: the request console sends its calls there. */
  web?: WebTarget;
  /** The descriptor set's registry: the request console's forms. */
  registry?: FileRegistry;
  host?: string;
  port?: number;
}

/** The running side port. */
export interface HttpSidePort {
  readonly port: number;
  /** Stops accepting, lets requests in progress finish (up to graceMs), closes every connection, then writes pending API key lastUsedAt values. */
  close(graceMs?: number): Promise<void>;
}

/** Every route of the side port. */
export function sidePortRoutes(options: HttpSidePortOptions): Route[] {
  addProcessMetrics(options.metrics.registry, options.db);
  if (options.requestLog) addRequestLogMetrics(options.metrics.registry, options.requestLog);
  return [
    metricsRoute(options.metrics.registry),
    meRoute,
    servicesRoute(options.server),
    serversRoute(options.db, options.config.grpc.monitor.heartbeatMs),
    callsRoute(options.db),
    statsRoute(options.db),
    seriesRoute(options.db),
    ...apiKeyRoutes(options.db),
    ...consoleRoutes(options.server, options.registry, options.web),
    ...dashboardRoutes(),
  ];
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'too_large', `The body is larger than ${MAX_BODY} bytes.`));
        req.resume();
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return reject(badRequest('The body is empty; send a JSON object.'));
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(badRequest(`The body is not valid JSON: ${(err as Error).message}`));
      }
    });
  });
}

function send(res: ServerResponse, reply: HttpReply, head: boolean): void {
  if ('stream' in reply) {
    void reply.stream(res).catch((err: unknown) => {
      log.error('a streamed reply failed', { error: (err as Error)?.message ?? String(err) });
      res.destroy();
    });
    return;
  }
  const status = reply.status ?? 200;
  if ('json' in reply) {
    const body = JSON.stringify(reply.json);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(head ? undefined : body);
  } else {
    res.writeHead(status, { ...reply.headers, 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.body) });
    res.end(head ? undefined : reply.body);
  }
}

/** gRPC statuses a shared function may end with (a GrpcError), as HTTP answers them. */
const HTTP_OF: Partial<Record<Status, [number, string]>> = {
  [Status.UNAVAILABLE]: [503, 'unavailable'],
  [Status.PERMISSION_DENIED]: [403, 'forbidden'],
};

/** Any error as a JSON reply: HttpError as is, a database outage 503, a refusal 403, anything else 500 (logged). */
function errorReply(err: unknown, where: string): HttpReply {
  if (err instanceof HttpError) return { status: err.status, json: { error: err.code, message: err.message } };
  const status = classify(err);
  const http = HTTP_OF[status.code];
  if (http) return { status: http[0], json: { error: http[1], message: status.message } };
  log.error(`${where} failed`, { error: (err as Error)?.stack ?? String(err) });
  return { status: 500, json: { error: 'internal', message: 'Internal server error' } };
}

/** node:http's timeouts from grpc.http: slow or silent request headers, idle keep-alive connections. */
function limitOptions(http: CfgConfig['grpc']['http']): ServerOptions {
  return {
    headersTimeout: http.headersTimeoutMs,
    // A whole request (its body is at most 64 KiB) gets 30 s more than its headers.
    requestTimeout: http.headersTimeoutMs + 30_000,
    keepAliveTimeout: http.idleTimeoutMs,
    // node:http checks the two timeouts above this often (30 s by default, far past 10 s).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(http.headersTimeoutMs / 4))),
  };
}

/** grpc.http.maxConnections: connections past it are closed at once and reported once per 10 s with the count. */
function listenerLimits(server: Server, http: CfgConfig['grpc']['http']): Server {
  const cap = new ConnectionCap(log, 'HTTP side port', 'grpc.http.maxConnections', http.maxConnections);
  server.on('connection', (socket: Socket) => cap.admit(socket));
  return server;
}

/**
 * The HTTP side port (grpc.http): Prometheus /metrics, the JSON operations API under /api/ and the
 * dashboard at /, on plain node:http. Staff routes need a staff user's token or API key.
 */
export async function startHttpSidePort(options: HttpSidePortOptions): Promise<HttpSidePort> {
  const { config } = options;
  const routes = sidePortRoutes(options);
  const auth = httpAuthenticator(config, options.db);
  const openMetrics = config.grpc.http.publicMetrics;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: HttpReply;
    const method = req.method ?? 'GET';
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://side-port');
      } catch {
        throw badRequest('The request target is not a valid URL.');
      }
      const query = parseQuery(url.search);
      const match = matchRoute(routes, method, url.pathname);
      if (match === null)
        throw new HttpError(
          404,
          'not_found',
          `Nothing at ${url.pathname}; see /api/me, /api/services, /api/servers, /api/calls, /api/stats, /api/keys, /api/console, /metrics or the dashboard at /.`,
        );
      if ('allowed' in match) {
        res.setHeader('allow', match.allowed.join(', '));
        throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}; use ${match.allowed.join(' or ')}.`);
      }
      const { route, params } = match;
      let user: AuthUser | null = null;
      if (route.access === 'staff' || (route.access === 'metrics' && !openMetrics)) user = await auth.authenticate(req.headers);
      const request: HttpRequest = { method, url, headers: req.headers, params, query, user, json: () => readJson(req) };
      reply = await route.handle(request);
    } catch (err) {
      reply = errorReply(err, `${method} ${req.url}`);
    }
    if (!res.headersSent) send(res, reply, method === 'HEAD');
  }

  const http = listenerLimits(
    createServer(limitOptions(config.grpc.http), (req, res) => void handle(req, res)),
    config.grpc.http,
  );
  // Answered, then closed whether or not the peer closes its end (a hostile one may not).
  http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`, () => socket.destroy());
  });
  const host = options.host ?? config.grpc.http.host;
  const wanted = options.port ?? config.grpc.http.port;
  const port = await new Promise<number>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) => {
      void auth.close();
      reject(
        listenError(err, {
          host,
          port: wanted,
          label: `HTTP side port ${wanted} on ${host}`,
          purpose: ' for the HTTP side port',
          otherPort: 'grpc.http.port, or CFG_HTTP_PORT',
          check: `Check ${settingOrigin('grpc.http.host', options.host)} and ${settingOrigin('grpc.http.port', options.port === undefined ? undefined : 'the port given')}.`,
        }),
      );
    });
    http.listen(wanted, host.replace(/^\[(.*)\]$/, '$1'), () => {
      const address = http.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  log.info(`HTTP side port listening on ${host}:${port} (metrics, /api, dashboard)`);

  let closing: Promise<void> | undefined;
  return {
    port,
    close(graceMs = config.grpc.server.shutdownGraceMs) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => http.closeAllConnections(), graceMs);
        timer.unref();
        http.close(() => {
          clearTimeout(timer);
          // Requests are over: the last API key uses are written (a failure is logged, never thrown).
          void auth.close().then(
            () => resolve(),
            () => resolve(),
          );
        });
        http.closeIdleConnections();
      });
      return closing;
    },
  };
}
