import { GrpcError, Status, statusName, type CallContext, type StreamWriter } from 'cfg-grpc';
import {
  TradeSide,
  type PriceUpdate,
  type TradeFill,
  type TradeOrder,
  type TradeRequest,
  type TradeResponse,
} from '../../../generated/crypto_service.ts';
import { QUOTE_SYMBOL, type Operation, type OperationResult } from './ledger.ts';
import { formatDecimal, UNIT_SCALE } from './money.ts';
import { RequestReader, TIMEOUT } from './request-reader.ts';
import { amountOf, idempotencyKeyOf, symbolOf } from './validation.ts';

export interface TradeSettings {
  /** A ping is sent after this long without anything sent. */
  pingMs: number;
  /** Price pushes waiting for a slow reader; past that the oldest is dropped (and counted). */
  queue: number;
}

/** CRYPTO_TRADE_PING_MS (default 15000) and CRYPTO_TRADE_QUEUE (default 64). */
export function tradeSettings(env: NodeJS.ProcessEnv = process.env): TradeSettings {
  const int = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    return Number.isInteger(value) && value >= 1 ? value : fallback;
  };
  return { pingMs: int('CRYPTO_TRADE_PING_MS', 15_000), queue: int('CRYPTO_TRADE_QUEUE', 64) };
}

type Event = NonNullable<TradeResponse['event']>;

/**
 * Statuses an order is rejected with, the stream going on: each means nothing was applied and the
 * order itself is at fault (its fields, the wallets, the price, its id). Any other error ends the
 * stream with its status: UNAUTHENTICATED (the user is gone), UNAVAILABLE or ABORTED (the
 * database; the order's outcome may be unknown), INTERNAL.
 */
const REJECTED = new Set<Status>([
  Status.INVALID_ARGUMENT,
  Status.NOT_FOUND,
  Status.FAILED_PRECONDITION,
  Status.OUT_OF_RANGE,
  Status.ALREADY_EXISTS,
]);

/** A validated order as a ledger operation (a GrpcError INVALID_ARGUMENT when a field is wrong). */
export function tradeOperationOf(order: TradeOrder): Operation {
  const idempotencyKey = idempotencyKeyOf(order.clientOrderId, 'client_order_id');
  const kind = order.side === TradeSide.TRADE_SIDE_BUY ? 'buy' : order.side === TradeSide.TRADE_SIDE_SELL ? 'sell' : undefined;
  if (!kind) throw new GrpcError(Status.INVALID_ARGUMENT, `side must be TRADE_SIDE_BUY or TRADE_SIDE_SELL (got ${order.side})`);
  const symbol = symbolOf(order.symbol);
  if (symbol === QUOTE_SYMBOL)
    throw new GrpcError(Status.INVALID_ARGUMENT, `${QUOTE_SYMBOL} is what trades are paid in; it cannot be bought or sold for itself`);
  const amount = amountOf(order.quantity, 'quantity');
  const limitPrice = order.limitPriceUsd.trim() === '' ? undefined : amountOf(order.limitPriceUsd, 'limit_price_usd');
  return { kind, symbol, amount, idempotencyKey, ...(limitPrice === undefined ? {} : { limitPrice }) };
}

/** The fill for an applied or replayed trade. */
export function fillOf(order: TradeOrder, op: Operation, result: OperationResult): TradeFill {
  const trade = result.trade!;
  return {
    clientOrderId: op.idempotencyKey,
    side: order.side,
    symbol: op.symbol,
    quantity: formatDecimal(result.transfer.amountUnits, UNIT_SCALE),
    priceUsd: formatDecimal(trade.price, UNIT_SCALE),
    quoteSymbol: trade.quoteSymbol,
    quoteAmount: formatDecimal(trade.quoteAmount, UNIT_SCALE),
    balance: formatDecimal(result.wallet?.balanceUnits ?? 0n, UNIT_SCALE),
    quoteBalance: formatDecimal(trade.quoteBalance, UNIT_SCALE),
    tradeId: BigInt(result.transfer.id),
    replayed: result.replayed,
    filledAt: result.transfer.createdAt,
  };
}

/** A rejection for an order refused with `err`, or undefined when the error must end the stream. */
export function rejectionOf(clientOrderId: string, err: unknown): Event | undefined {
  if (!(err instanceof GrpcError) || !REJECTED.has(err.code)) return undefined;
  return { $case: 'rejection', value: { clientOrderId, code: statusName(err.code), message: err.message } };
}

/**
 * What a Trade stream sends, in one place, so that writes never interleave: answers (fills,
 * rejections, pongs) are never dropped and go first; price pushes wait in a bounded queue and the
 * oldest is dropped when a slow reader lets it fill (the next push delivered says how many went
 * before it); a ping goes out after `pingMs` with nothing sent. Every write waits for the
 * transport (StreamWriter.write), so a client that does not read holds the stream's answers back,
 * and with them the reading of its next orders.
 */
export class TradeOutbox {
  private readonly answers: Array<{ event: Event; sent: () => void }> = [];
  private readonly prices: PriceUpdate[] = [];
  private droppedBefore = 0;
  private writing = false;
  private pingDue = false;
  private pings = 0;
  private lastSent = performance.now();
  private flushed: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  /** Price pushes dropped over the stream's life. */
  dropped = 0;

  constructor(
    private readonly out: StreamWriter<TradeResponse>,
    private readonly signal: AbortSignal,
    private readonly settings: TradeSettings,
  ) {
    this.timer = setInterval(() => this.checkIdle(), Math.max(5, Math.floor(settings.pingMs / 4)));
    this.timer.unref();
  }

  /** Resolves once the event is handed to the transport (or the call is over). */
  answer(event: Event): Promise<void> {
    return new Promise((sent) => {
      this.answers.push({ event, sent });
      void this.pump();
    });
  }

  price(update: PriceUpdate): void {
    if (this.prices.length >= this.settings.queue) {
      this.prices.shift();
      this.droppedBefore++;
      this.dropped++;
    }
    this.prices.push(update);
    void this.pump();
  }

  /** Resolves once everything queued (answers and price pushes) is handed to the transport, or the call is over. */
  async flush(): Promise<void> {
    while (!this.signal.aborted && (this.writing || this.answers.length > 0 || this.prices.length > 0)) {
      await new Promise<void>((resolve) => (this.flushed = resolve));
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const a of this.answers.splice(0)) a.sent();
    this.flushed?.();
  }

  private checkIdle(): void {
    if (this.writing || performance.now() - this.lastSent < this.settings.pingMs) return;
    this.pingDue = true;
    void this.pump();
  }

  private next(): Event | undefined {
    const answer = this.answers[0];
    if (answer) return answer.event;
    const update = this.prices.shift();
    if (update) {
      const dropped = this.droppedBefore;
      this.droppedBefore = 0;
      return { $case: 'price', value: { price: update, dropped } };
    }
    if (this.pingDue) {
      this.pingDue = false;
      return { $case: 'ping', value: { nonce: String(++this.pings) } };
    }
    return undefined;
  }

  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      for (let event = this.next(); event && !this.signal.aborted; event = this.next()) {
        await this.out.write({ event });
        this.lastSent = performance.now();
        if (this.answers[0]?.event === event) this.answers.shift()!.sent();
      }
    } finally {
      this.writing = false;
      if (this.signal.aborted) this.close();
      this.flushed?.();
    }
  }
}

/** Executes one order: its fill or rejection; throws what must end the stream. */
export type ExecuteOrder = (order: TradeOrder) => Promise<Event>;

/**
 * A Trade stream: each message read is answered before the next is read (an order is executed,
 * a ping answered), so the stream never reads faster than it applies; fills subscribe the stream
 * to their coin's price changes (`listen`). Ends when the client ends its side, once every answer
 * and the pushes still queued are handed to the transport; a message that is neither an order nor
 * a ping ends it INVALID_ARGUMENT.
 */
export async function runTrade(
  requests: AsyncIterable<TradeRequest>,
  ctx: CallContext,
  out: StreamWriter<TradeResponse>,
  settings: TradeSettings,
  execute: ExecuteOrder,
  listen: (listener: (update: PriceUpdate) => void, signal: AbortSignal) => () => void,
): Promise<{ orders: number; dropped: number }> {
  const outbox = new TradeOutbox(out, ctx.signal, settings);
  const traded = new Set<string>();
  const stop = listen((update) => {
    if (traded.has(update.symbol)) outbox.price(update);
  }, ctx.signal);
  const reader = new RequestReader(requests, ctx);
  let orders = 0;
  try {
    for (let n = 0; ; n++) {
      const next = await reader.next();
      if (next === TIMEOUT) continue;
      if (next.done) break;
      const kind = next.value.kind;
      if (kind?.$case === 'order') {
        orders++;
        const event = await execute(kind.value);
        if (event.$case === 'fill') traded.add(event.value.symbol);
        await outbox.answer(event);
      } else if (kind?.$case === 'ping') await outbox.answer({ $case: 'pong', value: kind.value });
      else throw new GrpcError(Status.INVALID_ARGUMENT, `message ${n}: neither an order nor a ping`);
    }
    stop(); // no more pushes: those queued go out before the stream ends
    await outbox.flush();
    return { orders, dropped: outbox.dropped };
  } finally {
    stop();
    outbox.close();
  }
}
