import {
  createClient,
  idempotentMethods,
  resumable,
  type ClientCallOptions,
  type ClientOptions,
  type ResumeOptions,
  type TypedClient,
} from 'cfg-grpc';
import {
  CryptoServiceService,
  type PriceUpdate,
  type TradeFill,
  type TradeOrder,
  type TradePing,
  type TradePriceUpdate,
  type TradeRejection,
  type TradeRequest,
  type TradeResponse,
  type WatchPricesRequest,
} from '../../../generated/crypto_service.ts';

export type CryptoClient = TypedClient<typeof CryptoServiceService>;

const DESCRIPTORS = new URL('../../../generated/descriptors.binpb', import.meta.url);
let idempotent: Set<string> | undefined;

/**
 * A typed CryptoService client for scripts and tests: unary calls return promises,
 * WatchPrices is an async iterable, ImportPrices takes an (async) iterable of ticks and returns
 * a promise of its summary, Trade takes an (async) iterable of requests and is an async iterable
 * of events (openTrade below drives it with promises). The read RPCs (marked NO_SIDE_EFFECTS in the proto) are
 * retried on UNAVAILABLE; Transfer, Deposit and the other writes never are. Several addresses
 * are balanced round robin.
 *
 *     const client = cryptoClient('localhost:50051', { token });
 *     const { coin } = await client.getCoin({ symbol: 'BTC' });
 */
export function cryptoClient(address: string | readonly string[], options: ClientOptions = {}): CryptoClient {
  idempotent ??= idempotentMethods(DESCRIPTORS);
  return createClient(CryptoServiceService, address, { idempotent, ...options });
}

/** The version WatchPrices updates are compared by: the coin's updated-at, in ms. */
const priceVersion = (u: PriceUpdate) => u.updatedAt?.getTime() ?? 0;

/**
 * WatchPrices that survives a drained, stopped or lost server: the stream is opened again (on
 * any of the client's addresses) and each coin's update is passed on once, newest first seen,
 * by its updated-at. Opt-in: `for await (const u of watchPricesResumed(client, { symbols: ['BTC'] }, { signal }))`.
 */
export function watchPricesResumed(
  client: CryptoClient,
  request: WatchPricesRequest,
  options: Omit<ResumeOptions<PriceUpdate>, 'key' | 'version'> = {},
): AsyncGenerator<PriceUpdate> {
  return resumable((signal) => client.watchPrices(request, { signal }), { ...options, key: (u) => u.symbol, version: priceVersion });
}

/** What an order came to: its fill, or the rejection that says why nothing was applied. */
export type TradeOutcome = { fill: TradeFill; rejection?: undefined } | { rejection: TradeRejection; fill?: undefined };

export interface TradeSessionOptions extends ClientCallOptions {
  /** Each price push (a change of a coin this stream traded; `dropped` counts pushes lost before it). */
  onPrice?(update: TradePriceUpdate): void;
  /** Each keep-alive the server sends. */
  onPing?(ping: TradePing): void;
}

/** A Trade stream driven by promises: `await session.place(order)` is that order's outcome. */
export interface TradeSession {
  /** Sends an order; resolves with its fill or rejection. Rejects with the stream's error if it ends first. */
  place(order: TradeOrder): Promise<TradeOutcome>;
  /** Sends a ping; resolves with the round trip in ms once its pong is back. */
  ping(): Promise<number>;
  /** Ends the client's side: resolves once the server has answered everything and ended the stream OK. */
  end(): Promise<void>;
  /** Cancels the stream (the server sees CANCELLED; an order not yet answered may or may not be filled: place its id again). */
  cancel(): void;
  /** Settles when the stream ends: resolves on OK, rejects with its status (a ClientError) otherwise. */
  readonly closed: Promise<void>;
}

/** The requests of a stream, written as they come (an async iterable the client feeds from). */
class RequestQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) yield item;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/**
 * Opens a Trade stream: orders and pings are answered in the order they are sent, each promise
 * settled by its answer; price pushes and keep-alives go to `onPrice` and `onPing`. The server
 * answers one order at a time, so orders placed without waiting queue up in order.
 *
 *     const session = openTrade(cryptoClient(address, { token }));
 *     const { fill, rejection } = await session.place({ clientOrderId: 'o-1', side: TradeSide.TRADE_SIDE_BUY, symbol: 'BTC', quantity: '0.01', limitPriceUsd: '' });
 *     await session.end();
 */
export function openTrade(client: CryptoClient, options: TradeSessionOptions = {}): TradeSession {
  const { onPrice, onPing, ...callOptions } = options;
  const requests = new RequestQueue<TradeRequest>();
  const waiting: Array<{ resolve(event: NonNullable<TradeResponse['event']>): void; reject(err: unknown): void }> = [];
  let failure: unknown;
  let over = false;
  const call = client.trade(requests, callOptions);
  const closed = (async () => {
    try {
      for await (const { event } of call) {
        if (event?.$case === 'price') onPrice?.(event.value);
        else if (event?.$case === 'ping') onPing?.(event.value);
        else if (event) waiting.shift()?.resolve(event);
      }
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      over = true;
      const err = failure ?? new Error('The Trade stream ended before answering');
      for (const w of waiting.splice(0)) w.reject(err);
    }
  })();
  closed.catch(() => {}); // reported by place(), end() and closed to whoever awaits them
  const send = (request: TradeRequest) =>
    new Promise<NonNullable<TradeResponse['event']>>((resolve, reject) => {
      if (over) return reject(failure ?? new Error('The Trade stream has ended'));
      waiting.push({ resolve, reject });
      requests.push(request);
    });
  let pings = 0;
  return {
    async place(order) {
      const event = await send({ kind: { $case: 'order', value: order } });
      if (event.$case === 'fill') return { fill: event.value };
      if (event.$case === 'rejection') return { rejection: event.value };
      throw new Error(`Trade: an order was answered with ${event.$case}`);
    },
    async ping() {
      const started = performance.now();
      await send({ kind: { $case: 'ping', value: { nonce: `client-${++pings}` } } });
      return performance.now() - started;
    },
    async end() {
      requests.end();
      await closed;
    },
    cancel() {
      (call as unknown as { cancel(): void }).cancel();
    },
    closed,
  };
}
