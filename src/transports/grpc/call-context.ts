import {
  Metadata,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
} from '@grpc/grpc-js';
import { CallState } from '../../call/context.ts';
import type { CallStatus, MetadataRecord } from '../../call/error.ts';
import type { MethodInfo } from '../../call/method.ts';
import { expectResponse, requestSize, takeResponseSize } from './sizes.ts';

/** Any grpc-js server call. */
export type ServerSurfaceCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>;
type Writable = ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>;

/**
 * A grpc-js call as the call core sees it: CallContext's fields read from the grpc-js call, and
 * the wire written on it. Response headers wait until the first message or the status; response
 * sizes are measured as grpc-js serializes (src/transports/grpc/sizes.ts).
 */
export class ServerCallContext extends CallState {
  private headers: Metadata | undefined = undefined;
  private trailers: Metadata | undefined = undefined;
  private headersSent = false;
  private _peer: string | undefined = undefined;

  constructor(
    readonly method: MethodInfo,
    readonly call: ServerSurfaceCall,
    /** The unary / client-streaming callback; undefined for a streaming response. */
    private readonly callback: sendUnaryData<unknown> | undefined,
    serverSignal: AbortSignal,
  ) {
    super();
    this.startCall(serverSignal);
  }

  get protocol(): 'grpc' {
    return 'grpc';
  }

  get metadata(): Metadata {
    return this.call.metadata;
  }

  get deadline(): Date | number {
    return this.call.getDeadline();
  }

  get peer(): string {
    return (this._peer ??= formatPeer(this.call.getPeer()));
  }

  get cancelled(): boolean {
    return this.call.cancelled;
  }

  /** Serialized bytes of the request message (unary and server-streaming calls on a measuring server), else null. */
  get requestSize(): number | null {
    return this.method.kind === 'unary' || this.method.kind === 'serverStream' ? requestSize(this.input) : null;
  }

  addResponseMetadata(key: string, value: string | Buffer): void {
    if (this.headersSent) (this.trailers ??= new Metadata()).add(key, value);
    else (this.headers ??= new Metadata()).add(key, value);
  }

  // --- The wire ----------------------------------------------------------------------------

  protected onCancel(listener: () => void): void {
    (this.call as NodeJS.EventEmitter).once('cancelled', listener);
  }

  sendResponse(message: unknown): number | null {
    this.flushHeaders();
    // grpc-js serializes the message synchronously inside the callback: the size is noted there.
    expectResponse();
    this.callback!(null, message, this.trailers);
    return takeResponseSize();
  }

  get closed(): boolean {
    const call = this.call as Writable;
    return call.cancelled || call.writableEnded;
  }

  write(message: unknown): boolean {
    this.flushHeaders();
    return (this.call as Writable).write(message);
  }

  drained(): Promise<void> {
    const call = this.call as Writable;
    const signal = this.signal;
    return new Promise((resolve) => {
      const done = () => {
        call.off('drain', done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      call.once('drain', done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  end(): void {
    this.flushHeaders();
    (this.call as Writable).end(this.trailers);
  }

  sendError(status: CallStatus): void {
    this.flushHeaders();
    const error = { code: status.code, details: status.message, metadata: toMetadata(status.metadata) };
    if (this.callback) this.callback(error);
    else this.call.emit('error', error);
  }

  /** Sends pending response headers; called before the first message and before the status. */
  private flushHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    if (this.headers) this.call.sendMetadata(this.headers);
  }
}

/** An error's trailers as grpc-js Metadata. */
function toMetadata(record: MetadataRecord | undefined): Metadata {
  const metadata = new Metadata();
  if (record) {
    for (const [key, value] of Object.entries(record)) {
      if (Array.isArray(value)) for (const v of value as readonly (string | Buffer)[]) metadata.add(key, v);
      else metadata.add(key, value as string | Buffer);
    }
  }
  return metadata;
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
