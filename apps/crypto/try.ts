// A call to the crypto app without grpcurl: `npx tsx apps/crypto/try.ts [SYMBOL]`, with `cfg rungrpc`
// serving on localhost (CFG_GRPC_PORT, as for rungrpc; 50051 by default).
import { cryptoClient } from './grpc_services/client.ts';

const client = cryptoClient(`localhost:${process.env.CFG_GRPC_PORT || 50051}`);
try {
  const { coin } = await client.getCoin({ symbol: process.argv[2] ?? 'BTC' });
  console.log(`${coin?.symbol} ${coin?.name} $${coin?.priceUsd}`);
} finally {
  client.close();
}
