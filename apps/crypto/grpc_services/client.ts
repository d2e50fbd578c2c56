import { createClient, idempotentMethods, resumable, type ClientOptions, type ResumeOptions, type TypedClient } from 'cfg-grpc';
import { CryptoServiceService, type PriceUpdate, type WatchPricesRequest } from '../../../generated/crypto_service.ts';

export type CryptoClient = TypedClient<typeof CryptoServiceService>;

const DESCRIPTORS = new URL('../../../generated/descriptors.binpb', import.meta.url);
let idempotent: Set<string> | undefined;

/**
 * A typed CryptoService client for scripts and tests: unary calls return promises,
 * WatchPrices is an async iterable. The read RPCs (marked NO_SIDE_EFFECTS in the proto) are
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
