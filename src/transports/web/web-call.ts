// A call on the web listener as the call core sees it: CallContext's fields read from the HTTP
// request, cancellation when the client goes away or the deadline passes, and response metadata.
// Each protocol (connect.ts, grpc-web.ts) extends it with its wire: how a response, a streamed
// message, the end and an error are written.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { CallState, type RequestMetadata } from '../../call/context.ts';
import { GrpcError, Status, type MetadataRecord, type MetadataValue } from '../../call/error.ts';
import type { MethodInfo } from '../../call/method.ts';
import type { MethodCodec } from './codec.ts';
import type { Exchange } from './exchange.ts';
import { RESERVED_HEADERS } from './protocol.ts';

/** Request headers as call metadata: "-bin" keys decoded from base64, protocol headers left out of getMap(). */
export class HeaderMetadata implements RequestMetadata {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(key: string): MetadataValue[] {
    const value = this.headers[key];
    if (value === undefined) return [];
    const values = typeof value === 'string' ? [value] : value;
    return key.endsWith('-bin') ? values.map((v) => Buffer.from(v, 'base64')) : values;
  }

  getMap(): { [key: string]: MetadataValue } {
    const map: { [key: string]: MetadataValue } = {};
    for (const key of Object.keys(this.headers)) {
      if (key.startsWith(':') || RESERVED_HEADERS.has(key)) continue;
      map[key] = this.get(key)[0]!;
    }
    return map;
  }
}

/** What every web call is made with. */
export interface WebCallInit {
  readonly method: MethodInfo;
  readonly codec: MethodCodec;
  readonly exchange: Exchange;
  /** Response headers every answer carries (CORS), or undefined. */
  readonly baseHeaders: OutgoingHttpHeaders | undefined;
  readonly serverSignal: AbortSignal;
  readonly requestSize: number;
  /** Milliseconds the client gave the call (Connect-Timeout-Ms, grpc-timeout), or undefined. */
  readonly timeoutMs: number | undefined;
  /** Compress responses (the client accepts gzip). */
  readonly gzip: boolean;
  /** Called once when the call's response is complete or abandoned (in-flight accounting). */
  readonly settled: () => void;
}

export abstract class WebCall extends CallState {
  readonly method: MethodInfo;
  readonly codec: MethodCodec;
  readonly exchange: Exchange;
  readonly requestSize: number;
  readonly deadline: Date | number;
  protected readonly gzip: boolean;
  private _metadata: HeaderMetadata | undefined = undefined;
  private _cancelled = false;
  private cancelListeners: (() => void)[] | undefined = undefined;
  private timer: NodeJS.Timeout | undefined = undefined;
  private settled: (() => void) | undefined;
  /** Response headers to send (metadata, CORS); made on first use. */
  protected headers: OutgoingHttpHeaders | undefined;
  /** Metadata added after the headers went out. */
  protected trailers: Record<string, MetadataValue[]> | undefined = undefined;
  protected headersSent = false;

  constructor(init: WebCallInit) {
    super();
    this.startCall(init.serverSignal);
    this.method = init.method;
    this.codec = init.codec;
    this.exchange = init.exchange;
    this.requestSize = init.requestSize;
    this.gzip = init.gzip;
    this.headers = init.baseHeaders ? { ...init.baseHeaders } : undefined;
    this.settled = init.settled;
    const timeout = init.timeoutMs;
    this.deadline = timeout === undefined ? Infinity : new Date(Date.now() + timeout);
    init.exchange.onAbort(() => this.cancel(undefined));
    if (timeout !== undefined) {
      this.timer = setTimeout(() => this.cancel(new GrpcError(Status.DEADLINE_EXCEEDED, 'Deadline exceeded')), timeout);
    }
  }

  get metadata(): RequestMetadata {
    return (this._metadata ??= new HeaderMetadata(this.exchange.headers));
  }

  get peer(): string {
    return this.exchange.peer;
  }

  get cancelled(): boolean {
    return this._cancelled;
  }

  get closed(): boolean {
    return this._cancelled || this.exchange.done;
  }

  addResponseMetadata(key: string, value: string | Buffer): void {
    const k = key.toLowerCase();
    if (!this.headersSent) {
      const headers = (this.headers ??= {});
      const text = typeof value === 'string' ? value : value.toString('base64');
      const prior = headers[k];
      headers[k] = prior === undefined ? text : Array.isArray(prior) ? [...prior, text] : [String(prior), text];
    } else ((this.trailers ??= {})[k] ??= []).push(value);
  }

  protected onCancel(listener: () => void): void {
    (this.cancelListeners ??= []).push(listener);
  }

  /**
   * The client went away (`status` undefined: nothing can be answered) or the deadline passed
   * (the status goes out now). The method's signal aborts; whatever it answers later is dropped.
   */
  private cancel(status: GrpcError | undefined): void {
    if (this._cancelled) return;
    if (status) {
      if (this.exchange.done) return; // answered already: the deadline no longer matters
      this.sendError({ code: status.code, message: status.message, metadata: undefined });
    }
    this._cancelled = true;
    const listeners = this.cancelListeners;
    this.cancelListeners = undefined;
    if (listeners) for (const listener of listeners) listener();
    this.release();
  }

  /** The call is over for the transport: timers cleared, in-flight count down (once). */
  protected release(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const settled = this.settled;
    this.settled = undefined;
    settled?.();
  }

  override finish(reason?: string): void {
    this.release();
    super.finish(reason);
  }

  drained(): Promise<void> {
    const exchange = this.exchange;
    if (exchange.done) return Promise.resolve();
    const signal = this.signal;
    return new Promise((resolve) => {
      const done = () => {
        exchange.offDrain(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      exchange.onDrain(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Headers for the response: its content type, the metadata added so far, CORS. */
  protected responseHeaders(contentType: string): OutgoingHttpHeaders {
    this.headersSent = true;
    const headers = this.headers ?? {};
    headers['content-type'] = contentType;
    return headers;
  }
}

/** An error's metadata as [key, values] pairs; "-bin" values base64. */
export function metadataEntries(record: MetadataRecord | Record<string, MetadataValue[]> | undefined): [string, string[]][] {
  if (!record) return [];
  return Object.entries(record).map(([key, value]) => {
    const values = (Array.isArray(value) ? value : [value]) as MetadataValue[];
    return [key.toLowerCase(), values.map((v) => (typeof v === 'string' ? v : Buffer.from(v).toString('base64')))];
  });
}
