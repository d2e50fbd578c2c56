import {
  Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import type { AuthInfo, AuthUser } from '../auth/types.ts';
import type { MethodInfo } from './method.ts';
import { requestSize } from '../transports/grpc/sizes.ts';

/**
 * Everything a handler and the interceptors know of one call. One object per call; its
 * costly parts (the AbortSignal, response metadata, the formatted peer) are made on first use.
 */
export interface CallContext {
  readonly method: MethodInfo;
  /** Request metadata (headers) as sent by the client. */
  readonly metadata: Metadata;
  /** "ipv4:127.0.0.1:12345" or "ipv6:[::1]:12345". */
  readonly peer: string;
  /** Aborted when the client cancels, the deadline passes or the server shuts down. */
  readonly signal: AbortSignal;
  /** The client's deadline, or Infinity. */
  readonly deadline: Date | number;
  /** Set by the auth interceptor; null for an anonymous caller. */
  user: AuthUser | null;
  auth: AuthInfo | null;
  /** Milliseconds (performance.now()) when the call reached cfg. */
  readonly startedAt: number;
  /** Adds a response header (sent before the first message); after that, a trailer. */
  addResponseMetadata(key: string, value: string | Buffer): void;
  /** Per-call values shared between interceptors and the handler. */
  readonly state: Map<unknown, unknown>;
  /**
   * Says the call now waits on a bounded queue of its own (a batch writer, say) and no longer needs
   * one of grpc.server.maxWorkers' slots: the calls queued behind it stop waiting out its wait.
   * Once per call; a no-op where no limit applies.
   */
  releaseWorkerSlot(): void;
}

/** Any grpc-js server call. */
export type ServerSurfaceCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>;

/** The adapter's view: the public context plus what only the adapter and interceptors touch. */
export class ServerCallContext implements CallContext {
  user: AuthUser | null = null;
  auth: AuthInfo | null = null;
  /** The unary or client-streaming response, set by the handler step of the chain. */
  response: unknown = undefined;
  /** Messages sent (streaming) and bytes, for logs and metrics. */
  messagesSent = 0;
  readonly startedAt = performance.now();
  private controller: AbortController | undefined;
  private headers: Metadata | undefined;
  private trailers: Metadata | undefined;
  private headersSent = false;
  private _state: Map<unknown, unknown> | undefined;
  private _peer: string | undefined;
  private finished = false;
  /** Set by the concurrency limit while the call holds a slot. */
  workerSlot: (() => void) | undefined = undefined;

  constructor(
    readonly method: MethodInfo,
    readonly call: ServerSurfaceCall,
    /** Aborts every call at once (forced shutdown). */
    private readonly serverSignal: AbortSignal,
  ) {}

  get metadata(): Metadata {
    return this.call.metadata;
  }

  get deadline(): Date | number {
    return this.call.getDeadline();
  }

  get peer(): string {
    return (this._peer ??= formatPeer(this.call.getPeer()));
  }

  /** Serialized bytes of the request message (unary and server-streaming calls on a measuring server), else null. */
  get requestSize(): number | null {
    return this.method.kind === 'unary' || this.method.kind === 'serverStream' ? requestSize((this.call as ServerUnaryCall<unknown, unknown>).request) : null;
  }

  get state(): Map<unknown, unknown> {
    return (this._state ??= new Map());
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = (this.controller = new AbortController());
      const abort = (reason: string) => () => controller.abort(new Error(reason));
      if (this.call.cancelled) controller.abort(new Error('call cancelled by the client'));
      else {
        (this.call as NodeJS.EventEmitter).once('cancelled', abort('call cancelled by the client or its deadline passed'));
        if (this.serverSignal.aborted) controller.abort(this.serverSignal.reason);
        else {
          const onServerAbort = abort('server shutting down');
          this.serverSignal.addEventListener('abort', onServerAbort, { once: true });
          controller.signal.addEventListener('abort', () => this.serverSignal.removeEventListener('abort', onServerAbort), { once: true });
        }
      }
    }
    return this.controller.signal;
  }

  get cancelled(): boolean {
    return this.call.cancelled;
  }

  addResponseMetadata(key: string, value: string | Buffer): void {
    if (this.headersSent) (this.trailers ??= new Metadata()).add(key, value);
    else (this.headers ??= new Metadata()).add(key, value);
  }

  releaseWorkerSlot(): void {
    const release = this.workerSlot;
    this.workerSlot = undefined;
    release?.();
  }

  /** Sends pending response headers; called before the first message and before the status. */
  flushHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    if (this.headers) this.call.sendMetadata(this.headers);
  }

  /** Trailers to send with the status (undefined when none were set). */
  takeTrailers(): Metadata | undefined {
    return this.trailers;
  }

  /** Releases the server-abort listener (aborting the signal with `reason`); called once when the call ends. */
  finish(reason = 'call finished'): void {
    if (this.finished) return;
    this.finished = true;
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(new Error(reason));
  }
}

/** grpc-js gives "127.0.0.1:5000", "::1:5000" or "::ffff:127.0.0.1:5000"; the guide's form is "ipv4:127.0.0.1:5000". */
export function formatPeer(raw: string): string {
  const cut = raw.lastIndexOf(':');
  if (cut <= 0) return raw === 'unknown' ? raw : `unix:${raw}`;
  let host = raw.slice(0, cut);
  const port = raw.slice(cut + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.startsWith('::ffff:') && host.includes('.')) host = host.slice(7);
  return host.includes(':') ? `ipv6:[${host}]:${port}` : `ipv4:${host}:${port}`;
}
