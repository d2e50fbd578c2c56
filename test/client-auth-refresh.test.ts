// authRefreshMiddleware against the crypto app (auth on): a token the server refuses
// (UNAUTHENTICATED) is dropped, and the next call fetches a fresh one and succeeds.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { cryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { authRefreshMiddleware } from '../src/index.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

let app: CryptoEnv | undefined;
after(() => app?.stop());

test('a token refused UNAUTHENTICATED is fetched again on the next call', async () => {
  app = await startCrypto('sqlite');
  const good = await app.token('carol');
  const handed: string[] = [];
  // The first fetch hands out a token the server cannot verify, later ones a good one.
  const fetch = async () => {
    const token = handed.length === 0 ? `${good.slice(0, -4)}xxxx` : good;
    handed.push(token);
    return { token };
  };
  const client = cryptoClient(app.address, { middleware: [authRefreshMiddleware(fetch)] });
  try {
    await assert.rejects(client.getPortfolio({}), { code: status.UNAUTHENTICATED });
    const portfolio = await client.getPortfolio({});
    assert.ok(Array.isArray(portfolio.wallets));
    await client.getPortfolio({});
    assert.equal(handed.length, 2, 'fetched once after the refusal, then kept');
  } finally {
    client.close();
  }
});
