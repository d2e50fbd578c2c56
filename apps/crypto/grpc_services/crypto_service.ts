import { BaseService, GrpcError, Status, type AccessOf, type CallContext, type ServiceImplementation, type StreamWriter } from 'cfg-grpc';
import { getDataVersion } from 'cfg-grpc/db';
import {
  type Coin,
  type CoinResponse,
  CoinSort,
  type CreateCoinRequest,
  type CryptoServiceService,
  type DeleteCoinRequest,
  type DeleteCoinResponse,
  type DepositRequest,
  type GetCoinRequest,
  type GetMarketStatsRequest,
  type GetPortfolioRequest,
  type GetTopCoinsRequest,
  type GetTrendingCoinsRequest,
  type GetWalletRequest,
  type ImportPricesRequest,
  type ImportPricesResponse,
  type ListCoinsRequest,
  type ListCoinsResponse,
  type ListWalletsRequest,
  type ListWalletsResponse,
  type MarketStats,
  type PortfolioResponse,
  type PriceUpdate,
  type SearchCoinsRequest,
  type TradeOrder,
  type TradeRequest,
  type TradeResponse,
  type TransferRequest,
  type TransferResponse,
  type UpdateCoinPriceRequest,
  type WalletOperationResponse,
  type WalletResponse,
  type WatchPricesRequest,
  type WithdrawRequest,
} from '../../../generated/crypto_service.ts';
import { CoinCache, coinCacheEnabled } from './coin-cache.ts';
import { findCoinBySymbol } from './coin-query.ts';
import { coinToProto, priceUpdateOf, transferToProto, WALLET_INCLUDE, walletToProto } from './converters.ts';
import { importPrices, importSettings } from './import-prices.ts';
import { applyOperation, setPrices, type Operation, type OperationResult } from './ledger.ts';
import { CENT_SCALE, formatDecimal, parseDecimal, UNIT_SCALE, valueUnits } from './money.ts';
import { coinFeed, type CoinFeed, priceChanged, toPriceUpdate } from './price-bus.ts';
import { fillOf, rejectionOf, runTrade, tradeOperationOf, tradeSettings } from './trade.ts';
import { amountOf, idempotencyKeyOf, nonNegativeOf, offsetOf, pageSizeOf, symbolOf, tokenFor } from './validation.ts';

const SORTS = {
  [CoinSort.COIN_SORT_UNSPECIFIED]: [{ marketCapCents: 'desc' }, { id: 'asc' }],
  [CoinSort.COIN_SORT_MARKET_CAP]: [{ marketCapCents: 'desc' }, { id: 'asc' }],
  [CoinSort.COIN_SORT_SYMBOL]: [{ symbol: 'asc' }],
  [CoinSort.COIN_SORT_PRICE]: [{ priceUnits: 'desc' }, { id: 'asc' }],
} as const;

/**
 * The crypto example: coins, wallets, and money moving between them, on Prisma. Its database is
 * `this.db`, the handle of the server that registered it.
 */
export class CryptoService extends BaseService implements ServiceImplementation<typeof CryptoServiceService> {
  /** Who may call each RPC, as proto/crypto_service.proto documents it; the auth interceptor enforces it before a method runs. */
  static override access: AccessOf<typeof CryptoServiceService> = {
    getCoin: 'public',
    listCoins: 'public',
    searchCoins: 'public',
    getTopCoins: 'public',
    getTrendingCoins: 'public',
    getMarketStats: 'public',
    watchPrices: 'public',
    createCoin: { permission: 'crypto.add_coin', orStaff: true },
    updateCoinPrice: { permission: 'crypto.change_coin', orStaff: true },
    deleteCoin: { permission: 'crypto.delete_coin' },
    getWallet: 'user',
    listWallets: 'user',
    getPortfolio: 'user',
    transfer: 'user',
    deposit: 'user',
    withdraw: 'user',
    importPrices: 'staff',
    trade: 'user',
  };

  // --- coins (public) --------------------------------------------------------------------

  async getCoin(request: GetCoinRequest, ctx: CallContext): Promise<CoinResponse> {
    const symbol = symbolOf(request.symbol);
    const cache = this.coinCache ?? this.openCoinCache();
    const coin = await cache.get(symbol, () => this.loadCoin(symbol));
    if (!coin?.isActive) this.abortNotFound(ctx, `Coin ${symbol} not found`);
    return { success: true, coin };
  }

  private async loadCoin(symbol: string): Promise<Coin | null> {
    const row = await findCoinBySymbol(this.db, symbol);
    return row ? coinToProto(row) : null;
  }

  /**
   * GetCoin's cache, on this service's database: kept coherent by SQLite's data version, or on
   * PostgreSQL by the coin events of a transactional event channel (coin-cache.ts).
   */
  private coinCache: CoinCache | undefined;
  private openCoinCache(): CoinCache {
    if (this.coinCache) return this.coinCache;
    const db = this.db;
    let source: ConstructorParameters<typeof CoinCache>[0];
    if (coinCacheEnabled()) {
      if (db.provider === 'sqlite') source = getDataVersion(db);
      else if (this.hasEvents && this.events.transactional) source = this.feed!;
    }
    return (this.coinCache = new CoinCache(source));
  }

  /** The coin changes of the deployment, ordered per coin (price-bus.ts); undefined outside a server. */
  private get feed(): CoinFeed | undefined {
    return this.hasEvents ? coinFeed(this.events, this.db) : undefined;
  }

  async listCoins(request: ListCoinsRequest, ctx: CallContext): Promise<ListCoinsResponse> {
    const orderBy = SORTS[request.sort as keyof typeof SORTS];
    if (!orderBy) this.abortInvalidArgument(ctx, `sort ${request.sort} is not a known CoinSort value`);
    const size = pageSizeOf(request.pageSize, 20);
    const offset = offsetOf(request.pageToken);
    const where = request.includeInactive ? {} : { isActive: true };
    const db = this.db;
    const [rows, total] = await Promise.all([
      db.coin.findMany({ where, orderBy: [...orderBy], skip: offset, take: size }),
      db.coin.count({ where }),
    ]);
    return { coins: rows.map(coinToProto), nextPageToken: tokenFor(offset, size, total), totalCount: total };
  }

  async searchCoins(request: SearchCoinsRequest, ctx: CallContext): Promise<ListCoinsResponse> {
    const query = request.query.trim();
    if (query.length === 0) this.abortInvalidArgument(ctx, 'query is required');
    if (query.length > 64) this.abortInvalidArgument(ctx, 'query must be at most 64 characters');
    const size = pageSizeOf(request.pageSize, 20);
    const offset = offsetOf(request.pageToken);
    const db = this.db;
    // SQLite's LIKE is case-insensitive for ASCII; PostgreSQL needs mode: 'insensitive'.
    const contains = db.provider === 'postgresql' ? { contains: query, mode: 'insensitive' as const } : { contains: query };
    const where = { isActive: true, OR: [{ symbol: { contains: query.toUpperCase() } }, { name: contains }] };
    const [rows, total] = await Promise.all([
      db.coin.findMany({ where, orderBy: [{ marketCapCents: 'desc' }, { id: 'asc' }], skip: offset, take: size }),
      db.coin.count({ where }),
    ]);
    return { coins: rows.map(coinToProto), nextPageToken: tokenFor(offset, size, total), totalCount: total };
  }

  async getTopCoins(request: GetTopCoinsRequest): Promise<ListCoinsResponse> {
    const limit = pageSizeOf(request.limit, 10, 100, 'limit');
    const db = this.db;
    const rows = await db.coin.findMany({ where: { isActive: true }, orderBy: [{ marketCapCents: 'desc' }, { id: 'asc' }], take: limit });
    return { coins: rows.map(coinToProto), nextPageToken: '', totalCount: rows.length };
  }

  async getTrendingCoins(request: GetTrendingCoinsRequest): Promise<ListCoinsResponse> {
    const limit = pageSizeOf(request.limit, 5, 100, 'limit');
    const db = this.db;
    // The biggest absolute movers: the top risers and the top fallers, merged.
    const [up, down] = await Promise.all([
      db.coin.findMany({ where: { isActive: true }, orderBy: [{ change24hBps: 'desc' }, { id: 'asc' }], take: limit }),
      db.coin.findMany({ where: { isActive: true }, orderBy: [{ change24hBps: 'asc' }, { id: 'asc' }], take: limit }),
    ]);
    const seen = new Set<number>();
    const rows = [...up, ...down]
      .filter((c) => !seen.has(c.id) && seen.add(c.id))
      .sort((a, b) => Math.abs(b.change24hBps) - Math.abs(a.change24hBps) || a.id - b.id)
      .slice(0, limit);
    return { coins: rows.map(coinToProto), nextPageToken: '', totalCount: rows.length };
  }

  async getMarketStats(_request: GetMarketStatsRequest): Promise<MarketStats> {
    const db = this.db;
    const coins = await db.coin.findMany({
      where: { isActive: true },
      select: { marketCapCents: true, volume24hCents: true, change24hBps: true },
    });
    let cap = 0n;
    let volume = 0n;
    let weighted = 0n;
    for (const c of coins) {
      cap += c.marketCapCents;
      volume += c.volume24hCents;
      weighted += c.marketCapCents * BigInt(c.change24hBps);
    }
    const [gainer, loser] = await Promise.all([
      db.coin.findFirst({ where: { isActive: true }, orderBy: [{ change24hBps: 'desc' }, { id: 'asc' }] }),
      db.coin.findFirst({ where: { isActive: true }, orderBy: [{ change24hBps: 'asc' }, { id: 'asc' }] }),
    ]);
    return {
      totalMarketCapUsd: formatDecimal(cap, CENT_SCALE),
      totalVolume24hUsd: formatDecimal(volume, CENT_SCALE),
      activeCoins: coins.length,
      marketCapChange24hPercent: formatDecimal(cap === 0n ? 0n : weighted / cap, 2),
      topGainer: gainer ? coinToProto(gainer) : undefined,
      topLoser: loser ? coinToProto(loser) : undefined,
    };
  }

  /**
   * The current price of each coin asked for (all active coins when none), then every change made
   * through any process of the deployment, once each, in each coin's commit order (price-bus.ts).
   * After the event channel was lost and is back, each coin that changed meanwhile is sent as it
   * now is. Outside a server (no event channel), only this process's changes.
   */
  async *watchPrices(request: WatchPricesRequest, ctx: CallContext): AsyncIterable<PriceUpdate> {
    if (request.symbols.length > 100) this.abortInvalidArgument(ctx, 'symbols: at most 100');
    const wanted = new Set(request.symbols.map((s) => symbolOf(s)));
    const feed = this.feed;
    if (!feed) this.abort(ctx, Status.UNAVAILABLE, "WatchPrices needs the server's event channel");
    await feed.ready;
    // Subscribed before the current prices are read: nothing committed in between is missed.
    const updates = this.events.subscribe(priceChanged, ctx.signal);
    const sent = new Map<string, number>();
    const db = this.db;
    const current = await db.coin.findMany({
      where: { isActive: true, ...(wanted.size ? { symbol: { in: [...wanted] } } : {}) },
      orderBy: { symbol: 'asc' },
    });
    for (const coin of current) {
      sent.set(coin.symbol, coin.version);
      yield priceUpdateOf(coin);
    }
    for await (const update of updates) {
      if (wanted.size > 0 && !wanted.has(update.symbol)) continue;
      if ((sent.get(update.symbol) ?? -1) >= update.version) continue; // in the current prices already
      sent.set(update.symbol, update.version);
      yield toPriceUpdate(update);
    }
  }

  // --- coins (staff or a permission: see access) ---------------------------------------------

  async createCoin(request: CreateCoinRequest, ctx: CallContext): Promise<CoinResponse> {
    const symbol = symbolOf(request.symbol);
    const name = request.name.trim();
    if (name.length === 0 || name.length > 64) this.abortInvalidArgument(ctx, 'name must be 1 to 64 characters');
    const data = {
      symbol,
      name,
      priceUnits: nonNegativeOf(request.priceUsd, 'price_usd', UNIT_SCALE),
      marketCapCents: nonNegativeOf(request.marketCapUsd, 'market_cap_usd', CENT_SCALE, false),
      volume24hCents: nonNegativeOf(request.volume24hUsd, 'volume_24h_usd', CENT_SCALE, false),
    };
    const db = this.db;
    const existing = await db.coin.findUnique({ where: { symbol }, select: { isActive: true } });
    if (existing?.isActive) this.abort(ctx, Status.ALREADY_EXISTS, `Coin ${symbol} already exists`);
    // A deleted (inactive) coin is brought back: its ledger history stays attached.
    const coin = existing
      ? await db.coin.update({ where: { symbol }, data: { ...data, isActive: true, change24hBps: 0, version: { increment: 1 } } })
      : await db.coin.create({ data }).catch((err: { code?: string }) => {
          if (err.code === 'P2002') throw new GrpcError(Status.ALREADY_EXISTS, `Coin ${symbol} already exists`);
          throw err;
        });
    await this.feed?.committed(coin);
    this.log.info(`coin ${symbol} created`, { by: this.getUser(ctx)?.username });
    return { success: true, coin: coinToProto(coin) };
  }

  async updateCoinPrice(request: UpdateCoinPriceRequest, ctx: CallContext): Promise<CoinResponse> {
    const symbol = symbolOf(request.symbol);
    const priceUnits = nonNegativeOf(request.priceUsd, 'price_usd', UNIT_SCALE);
    let change24hBps: number | undefined;
    if (request.change24hPercent.trim() !== '') {
      const bps = parseDecimal(request.change24hPercent, 2);
      if (typeof bps === 'string') this.abortInvalidArgument(ctx, `change_24h_percent ${bps}`);
      if (bps < -100_00n || bps > 1_000_000_00n) this.abortInvalidArgument(ctx, 'change_24h_percent must be between -100 and 1000000');
      change24hBps = Number(bps);
    }
    // One statement: the row as committed, with its version (the order of this coin's commits).
    const coin = await this.db.coin
      .update({
        where: { symbol, isActive: true },
        data: { priceUnits, version: { increment: 1 }, ...(change24hBps === undefined ? {} : { change24hBps }) },
      })
      .catch((err: { code?: string }) => (err.code === 'P2025' ? null : Promise.reject(err)));
    if (!coin) this.abortNotFound(ctx, `Coin ${symbol} not found`);
    // Its WatchPrices streams and GetCoin cache see it at once; the other processes at the commit.
    await this.feed?.committed(coin);
    return { success: true, coin: coinToProto(coin) };
  }

  /**
   * Staff only: a price feed applied in batches, each in one transaction (import-prices.ts; the
   * proto says what a failed call leaves applied). A long import holds no maxWorkers slot: it
   * waits on its client, with at most one batch in memory.
   */
  async importPrices(requests: AsyncIterable<ImportPricesRequest>, ctx: CallContext): Promise<ImportPricesResponse> {
    this.requireStaff(ctx);
    ctx.releaseWorkerSlot();
    const db = this.db;
    const feed = this.feed;
    // On PostgreSQL and SQLite the database's triggers announce each coin a batch wrote, at its
    // commit, to every process (events migration); a channel that is not transactional (Redis) is
    // told here, with the rows as committed (their versions order them).
    const write = async (ticks: Parameters<typeof setPrices>[1]) => {
      const result = await setPrices(db, ticks);
      if (feed && 'coins' in result && !this.events.transactional) {
        const rows = await db.coin.findMany({ where: { symbol: { in: result.coins.map((c) => c.symbol) } } });
        for (const row of rows) await feed.committed(row);
      }
      return result;
    };
    return importPrices(requests, ctx, importSettings(), { write, publish: () => {} });
  }

  /** Deactivates the coin (its wallets and ledger rows are kept: nothing written is lost). */
  async deleteCoin(request: DeleteCoinRequest, ctx: CallContext): Promise<DeleteCoinResponse> {
    const symbol = symbolOf(request.symbol);
    const coin = await this.db.coin
      .update({ where: { symbol, isActive: true }, data: { isActive: false, version: { increment: 1 } } })
      .catch((err: { code?: string }) => (err.code === 'P2025' ? null : Promise.reject(err)));
    if (!coin) this.abortNotFound(ctx, `Coin ${symbol} not found`);
    await this.feed?.committed(coin);
    this.log.info(`coin ${symbol} deleted`, { by: this.getUser(ctx)?.username });
    return { success: true };
  }

  // --- wallets (the caller's own) ----------------------------------------------------------

  async getWallet(request: GetWalletRequest, ctx: CallContext): Promise<WalletResponse> {
    const user = this.requireUser(ctx);
    const symbol = symbolOf(request.symbol);
    const db = this.db;
    const wallet = await db.wallet.findFirst({ where: { userId: user.id, coin: { symbol } }, include: WALLET_INCLUDE });
    if (!wallet) this.abortNotFound(ctx, `No ${symbol} wallet for ${user.username}`);
    return { wallet: walletToProto(wallet) };
  }

  async listWallets(request: ListWalletsRequest, ctx: CallContext): Promise<ListWalletsResponse> {
    const user = this.requireUser(ctx);
    const size = pageSizeOf(request.pageSize, 20);
    const offset = offsetOf(request.pageToken);
    const db = this.db;
    const where = { userId: user.id };
    const [rows, total] = await Promise.all([
      db.wallet.findMany({ where, include: WALLET_INCLUDE, orderBy: { id: 'asc' }, skip: offset, take: size }),
      db.wallet.count({ where }),
    ]);
    return { wallets: rows.map(walletToProto), nextPageToken: tokenFor(offset, size, total), totalCount: total };
  }

  async getPortfolio(_request: GetPortfolioRequest, ctx: CallContext): Promise<PortfolioResponse> {
    const user = this.requireUser(ctx);
    const db = this.db;
    const rows = await db.wallet.findMany({ where: { userId: user.id }, include: WALLET_INCLUDE, orderBy: { id: 'asc' } });
    const total = rows.reduce((sum, w) => sum + valueUnits(w.balanceUnits, w.coin.priceUnits), 0n);
    return { wallets: rows.map(walletToProto), totalValueUsd: formatDecimal(total, UNIT_SCALE) };
  }

  // --- money ---------------------------------------------------------------------------

  private async operate(ctx: CallContext, op: Operation): Promise<OperationResult> {
    const user = this.requireUser(ctx);
    // An operation still waiting for its turn when the client's deadline passes is dropped unapplied.
    const deadline = +ctx.deadline;
    // The ledger queues it (bounded, UNAVAILABLE past 4096): its wait for a batch holds no worker slot.
    ctx.releaseWorkerSlot();
    return applyOperation(this.db, user, op, {
      get aborted() {
        return Date.now() >= deadline;
      },
    });
  }

  async transfer(request: TransferRequest, ctx: CallContext): Promise<TransferResponse> {
    const user = this.requireUser(ctx);
    const toUsername = request.toUsername.trim();
    if (toUsername.length === 0) this.abortInvalidArgument(ctx, 'to_username is required');
    if (toUsername === user.username) this.abortInvalidArgument(ctx, 'Cannot transfer to yourself');
    const op: Operation = {
      kind: 'transfer',
      symbol: symbolOf(request.symbol),
      amount: amountOf(request.amount),
      idempotencyKey: idempotencyKeyOf(request.idempotencyKey),
      toUsername,
    };
    const result = await this.operate(ctx, op);
    return {
      transfer: transferToProto(result.transfer),
      fromWallet: result.wallet ? walletToProto(result.wallet) : undefined,
      replayed: result.replayed,
    };
  }

  async deposit(request: DepositRequest, ctx: CallContext): Promise<WalletOperationResponse> {
    this.requireUser(ctx);
    const op: Operation = {
      kind: 'deposit',
      symbol: symbolOf(request.symbol),
      amount: amountOf(request.amount),
      idempotencyKey: idempotencyKeyOf(request.idempotencyKey),
    };
    const result = await this.operate(ctx, op);
    return {
      wallet: result.wallet ? walletToProto(result.wallet) : undefined,
      transfer: transferToProto(result.transfer),
      replayed: result.replayed,
    };
  }

  async withdraw(request: WithdrawRequest, ctx: CallContext): Promise<WalletOperationResponse> {
    this.requireUser(ctx);
    const op: Operation = {
      kind: 'withdraw',
      symbol: symbolOf(request.symbol),
      amount: amountOf(request.amount),
      idempotencyKey: idempotencyKeyOf(request.idempotencyKey),
    };
    const result = await this.operate(ctx, op);
    return {
      wallet: result.wallet ? walletToProto(result.wallet) : undefined,
      transfer: transferToProto(result.transfer),
      replayed: result.replayed,
    };
  }

  /**
   * A trading session (trade.ts): orders answered one at a time, each a ledger operation (buy or
   * sell, docs/money.md), so the money path is the one Transfer takes; price pushes of the coins
   * traded, pings. An order still waiting for its batch when the stream ends is dropped unapplied.
   */
  async trade(requests: AsyncIterable<TradeRequest>, ctx: CallContext, out: StreamWriter<TradeResponse>): Promise<void> {
    const user = this.requireUser(ctx);
    const db = this.db;
    const execute = async (order: TradeOrder) => {
      let op: Operation;
      try {
        op = tradeOperationOf(order);
        return { $case: 'fill' as const, value: fillOf(order, op, await applyOperation(db, user, op, ctx.signal)) };
      } catch (err) {
        const rejection = rejectionOf(order.clientOrderId, err);
        if (!rejection) throw err;
        return rejection;
      }
    };
    const { orders, dropped } = await runTrade(requests, ctx, out, tradeSettings(), execute, (listener, signal) =>
      this.listenPrices(listener, signal),
    );
    if (dropped > 0)
      this.log.info(`Trade stream of ${user.username} dropped ${dropped} price push(es): its client read too slowly`, { orders, dropped });
  }

  /**
   * Calls `listener` with each price change of the deployment (the event channel's, in each coin's
   * commit order) until `signal` aborts or the returned function is called: a Trade stream's pushes.
   */
  private listenPrices(listener: (update: PriceUpdate) => void, signal: AbortSignal): () => void {
    if (!this.hasEvents || signal.aborted) return () => {};
    const off = this.events.on(priceChanged, (p) => listener(toPriceUpdate(p)));
    const stop = () => {
      off();
      signal.removeEventListener('abort', stop);
    };
    signal.addEventListener('abort', stop, { once: true });
    return stop;
  }
}
