// A crypto server with the web listener on (in process, port 0), and plain HTTP/1.1 and HTTP/2
// clients that show exactly what went over the wire: the web protocols' tests read statuses,
// headers and frames themselves, with no protocol library between them and the server.
import http from 'node:http';
import http2 from 'node:http2';
import { after } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { configureLogging } from '../../src/log/logger.ts';
import { startTestServer, type TestServer } from '../../src/testing/test-server.ts';
import type { UserConfig } from '../../src/config/types.ts';
import type { StartOptions } from '../../src/server/start.ts';
import { REPO } from '../fixtures/project.ts';

configureLogging({ level: 'silent' });

export interface WebServer {
  readonly srv: TestServer;
  readonly port: number;
  readonly base: string;
  tokenOf(username: string): Promise<string>;
  stop(): Promise<void>;
}

/** The crypto app, seeded, with grpc.web on (127.0.0.1, port 0) and `config` over it; the caller stops it. */
export async function webServer(config: UserConfig = {}, interceptors?: StartOptions['interceptors']): Promise<WebServer> {
  const web = { enabled: true, host: '127.0.0.1', port: 0, ...(config.grpc?.web ?? {}) };
  const srv = await startTestServer({
    apps: ['crypto'],
    root: REPO,
    seed: true,
    config: { ...config, grpc: { ...config.grpc, web } },
    interceptors,
  });
  const port = srv.running.webPort!;
  const server: WebServer = {
    srv,
    port,
    base: `http://127.0.0.1:${port}`,
    async tokenOf(username) {
      return srv.token(await srv.user(username));
    },
    stop: () => srv.stop(),
  };
  return server;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP/1.1 request on a connection of its own. */
export function h1(
  port: number,
  method: string,
  path: string,
  headers: http.OutgoingHttpHeaders = {},
  body?: Uint8Array | string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One request on an HTTP/2 (h2c) session; the session is the caller's. */
export function h2(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Uint8Array | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ...headers });
    let status = 0;
    let got: http.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
      got = h as http.IncomingHttpHeaders;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({ status, headers: got, body: Buffer.concat(chunks) }));
    req.on('error', reject);
    req.end(body);
  });
}

export function h2session(port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  after(() => session.destroy());
  return session;
}

/** A 5-byte-prefixed frame. */
export function frame(flags: number, payload: Uint8Array | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const out = Buffer.alloc(5 + bytes.length);
  out[0] = flags;
  out.writeUInt32BE(bytes.length, 1);
  bytes.copy(out, 5);
  return out;
}

/** The frames of a body, each inflated when flagged compressed. */
export function frames(body: Buffer): Array<{ flags: number; payload: Buffer }> {
  const out: Array<{ flags: number; payload: Buffer }> = [];
  let at = 0;
  while (at < body.length) {
    const flags = body[at]!;
    const length = body.readUInt32BE(at + 1);
    const payload = body.subarray(at + 5, at + 5 + length);
    out.push({ flags, payload: flags & 1 ? gunzipSync(payload) : payload });
    at += 5 + length;
  }
  return out;
}

/** A gRPC-Web trailer frame's text as a record. */
export function trailersOf(payload: Buffer): Record<string, string> {
  return Object.fromEntries(
    payload
      .toString()
      .split('\r\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf(':')).trim(), line.slice(line.indexOf(':') + 1).trim()]),
  );
}

export const json = (reply: Reply): Record<string, unknown> => JSON.parse(reply.body.toString()) as Record<string, unknown>;
