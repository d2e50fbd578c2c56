import { createClient, type ClientOptions, type TypedClient } from 'cfg';
import { CryptoServiceService } from '../../../generated/crypto_service.ts';

export type CryptoClient = TypedClient<typeof CryptoServiceService>;

/**
 * A typed CryptoService client for scripts and tests: unary calls return promises,
 * WatchPrices is an async iterable.
 *
 *     const client = cryptoClient('localhost:50051', { token });
 *     const { coin } = await client.getCoin({ symbol: 'BTC' });
 */
export function cryptoClient(address: string, options: ClientOptions | { token?: string } = {}): CryptoClient {
  return createClient(CryptoServiceService, address, options);
}
