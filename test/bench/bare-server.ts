// Case a/b of the bench: a bare @grpc/grpc-js server (no cfg) answering GetCoin, either from
// memory or with the same Prisma query the crypto app makes (findCoinBySymbol). Run as a child process:
//   node --import tsx test/bench/bare-server.ts memory|prisma
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import {
  CryptoServiceService,
  type CoinResponse,
  type GetCoinRequest,
  type PriceUpdate,
  type UpdateCoinPriceRequest,
  type WatchPricesRequest,
} from '../../generated/crypto_service.ts';
import { coinToProto } from '../../apps/crypto/grpc_services/converters.ts';
import { findCoinBySymbol } from '../../apps/crypto/grpc_services/coin-query.ts';
import { loadConfig } from '../../src/config/load.ts';
import { openDb } from '../../src/db/client.ts';

const mode = process.argv[2] ?? 'memory';
const db = await openDb(await loadConfig());
const btc = await db.coin.findUniqueOrThrow({ where: { symbol: 'BTC' } });
const fixed: CoinResponse = { success: true, coin: coinToProto(btc) };

const server = new Server();
const unimplemented = (_call: unknown, callback: sendUnaryData<unknown>) => callback({ code: status.UNIMPLEMENTED });
const handlers: Record<string, unknown> = Object.fromEntries(Object.keys(CryptoServiceService).map((k) => [k, unimplemented]));
handlers.getCoin =
  mode === 'memory'
    ? (_call: ServerUnaryCall<GetCoinRequest, CoinResponse>, callback: sendUnaryData<CoinResponse>) => callback(null, fixed)
    : (call: ServerUnaryCall<GetCoinRequest, CoinResponse>, callback: sendUnaryData<CoinResponse>) => {
        findCoinBySymbol(db, call.request.symbol).then(
          (coin) => (coin ? callback(null, { success: true, coin: coinToProto(coin) }) : callback({ code: status.NOT_FOUND })),
          (err: Error) => callback({ code: status.INTERNAL, details: err.message }),
        );
      };
// The floor for the WatchPrices fan-out case w0 (watch.ts): UpdateCoinPrice only sets a price in
// memory and writes it to every watcher's call at once (no database, no auth, no queue per watcher).
let price: PriceUpdate = { symbol: 'BTC', priceUsd: coinToProto(btc).priceUsd, change24hPercent: '0', updatedAt: new Date() };
const watchers = new Set<ServerWritableStream<WatchPricesRequest, PriceUpdate>>();
handlers.watchPrices = (call: ServerWritableStream<WatchPricesRequest, PriceUpdate>) => {
  call.write(price);
  watchers.add(call);
  const gone = () => watchers.delete(call);
  call.on('cancelled', gone);
  call.on('error', gone);
};
handlers.updateCoinPrice = (call: ServerUnaryCall<UpdateCoinPriceRequest, CoinResponse>, callback: sendUnaryData<CoinResponse>) => {
  price = { symbol: call.request.symbol, priceUsd: call.request.priceUsd, change24hPercent: '0', updatedAt: new Date() };
  for (const w of watchers) w.write(price);
  callback(null, fixed);
};
server.addService(CryptoServiceService, handlers as never);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`listening on 127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
