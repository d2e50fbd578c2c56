import type { Http2Server, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';

const STATE = Symbol('cfg.idleSessions');

interface IdleState {
  /** Streams (calls) open on the connection now. */
  open: number;
  /** performance.now() when `open` last fell to 0 (or the connection opened). */
  idleSince: number;
  /** The one 'close' listener every stream of this connection shares. */
  ended: () => void;
}

type Tracked = ServerHttp2Session & { [STATE]?: IdleState };

export interface IdleSessions {
  stop(): void;
}

/**
 * grpc.server.maxConnectionIdleMs on the gRPC port: a connection that has had no open call for
 * `idleMs` is closed with `close` (grpc-js's own closeSession: GOAWAY, then the close), as grpc-js's
 * max_connection_idle_ms does. grpc-js pays for it on every call (a `once('close')` wrapper made per
 * stream, two map lookups, a clock read); here a connection counts its open calls with one listener
 * function of its own, and one timer per port looks for idle connections, every quarter of
 * `idleMs` (at most every 15 s): a connection goes between idleMs and idleMs plus that interval
 * after its last call ended.
 */
export function closeIdleSessions(h2: Http2Server, idleMs: number, close: (session: ServerHttp2Session) => void): IdleSessions {
  const sessions = new Set<Tracked>();
  h2.on('session', (session: Tracked) => {
    const state: IdleState = {
      open: 0,
      idleSince: performance.now(),
      ended: () => {
        if (--state.open === 0) state.idleSince = performance.now();
      },
    };
    session[STATE] = state;
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  h2.on('stream', (stream: ServerHttp2Stream) => {
    const state = (stream.session as Tracked | undefined)?.[STATE];
    if (state === undefined) return;
    state.open++;
    stream.on('close', state.ended);
  });
  const timer = setInterval(
    () => {
      const now = performance.now();
      for (const session of sessions) {
        const state = session[STATE]!;
        if (state.open > 0 || now - state.idleSince < idleMs) continue;
        sessions.delete(session);
        if (!session.closed && !session.destroyed) close(session);
      }
    },
    Math.max(10, Math.min(Math.floor(idleMs / 4), 15_000)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
