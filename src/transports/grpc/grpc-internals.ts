// The one place cfg reaches into @grpc/grpc-js's internals: its server-interceptors module, where
// the library frames and unframes messages. The version is pinned exactly in package.json; when the
// module is not the shape cfg was written for, this answers undefined and callers leave grpc-js as
// it is (response-compression.ts, request-frames.ts).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import type { Metadata, Server } from '@grpc/grpc-js';

/** What cfg uses of grpc-js's BaseServerInterceptingCall (one per incoming call). */
export interface BaseCall {
  stream: object;
  handler: { serialize(value: unknown): Buffer };
  maxSendMessageSize: number;
  serializeMessage(value: unknown): Buffer;
  sendMetadata(metadata: Metadata | null | undefined): void;
  /** `message` is the whole frame (flag byte, 4-byte length, body); `encoding` grpc-js's choice from the flag and grpc-encoding. */
  decompressMessage(message: Buffer, encoding: string): Buffer | Promise<Buffer>;
}

export interface InterceptorsModule {
  getServerInterceptingCall(...args: unknown[]): unknown;
  BaseServerInterceptingCall: { prototype: BaseCall };
}

let loaded: InterceptorsModule | null | undefined;

/** grpc-js's server-interceptors module, or undefined when it is not the expected shape. */
export function serverInterceptors(): InterceptorsModule | undefined {
  if (loaded === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const main = require.resolve('@grpc/grpc-js');
      const mod = require(join(dirname(main), 'server-interceptors.js')) as Partial<InterceptorsModule>;
      const proto = mod.BaseServerInterceptingCall?.prototype;
      const ok =
        typeof mod.getServerInterceptingCall === 'function' &&
        typeof proto?.serializeMessage === 'function' &&
        typeof proto.sendMetadata === 'function' &&
        typeof proto.decompressMessage === 'function';
      loaded = ok ? (mod as InterceptorsModule) : null;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** The node:http2 servers grpc-js holds (its private `http2Servers`), or undefined when grpc-js is not that shape. */
export function http2ServersOf(grpc: Server): Http2Server[] | undefined {
  const servers = (grpc as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return undefined;
  const list = [...servers.keys()] as unknown[];
  return list.every((s) => s instanceof EventEmitter && typeof (s as Partial<Http2Server>).listening === 'boolean')
    ? (list as Http2Server[])
    : undefined;
}

/**
 * Takes max_connection_idle_ms over from grpc-js: sets its private `sessionIdleTimeout` to the
 * value that turns its own tracking off (connections opened from now on) and returns its private
 * `closeSession`, with which cfg closes the idle connections it finds (idle-sessions.ts). Undefined
 * when grpc-js is not that shape: it then goes on doing it itself.
 */
export function takeOverIdleTimeout(grpc: Server): ((session: ServerHttp2Session) => void) | undefined {
  const internals = grpc as unknown as { sessionIdleTimeout?: unknown; closeSession?: unknown };
  const closeSession = internals.closeSession;
  if (typeof internals.sessionIdleTimeout !== 'number' || typeof closeSession !== 'function') return undefined;
  internals.sessionIdleTimeout = GRPC_JS_IDLE_OFF;
  return (session) => (closeSession as (session: ServerHttp2Session) => void).call(grpc, session);
}

/** grpc-js's MAX_CONNECTION_IDLE_MS (~(1 << 31)): at or above it, a connection gets no idle tracking. */
const GRPC_JS_IDLE_OFF = 2 ** 31 - 1;
