// GetCoin's read cache across node:cluster workers: each worker keeps its own cache, and a price
// changed through any worker is served by every worker's next call. A real `cfg rungrpc` with
// two processes on port 0, on SQLite.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

describe('GetCoin across cluster workers (SQLite, 2 processes)', () => {
  let app: CryptoEnv;
  before(async () => {
    app = await startCrypto('sqlite', { CFG_GRPC_PROCESSES: '2' });
  });
  after(async () => {
    await app?.stop();
  });

  test('a price changed through one worker is served by every worker', async () => {
    // Separate clients are separate connections, which node:cluster hands to the workers in turn.
    const readers = await Promise.all([1, 2, 3, 4].map(() => app.client()));
    for (const r of readers) assert.equal((await r.getCoin({ symbol: 'DOGE' })).coin!.symbol, 'DOGE');
    const editor = await app.client('editor');
    for (const price of ['0.5', '0.25']) {
      await editor.updateCoinPrice({ symbol: 'DOGE', priceUsd: price, change24hPercent: '' });
      for (const r of readers) assert.equal((await r.getCoin({ symbol: 'DOGE' })).coin!.priceUsd, price);
    }
  });
});
