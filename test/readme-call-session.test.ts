// README.md's "A cfg call session", followed word for word (test/support/readme.ts) in a copy of
// this repository: cfg list, describe and call against the crypto app it serves, with a token and
// an API key; the grpcurl block after it where grpcurl is installed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blocks, run, stopServers } from './support/readme.ts';

test('"A cfg call session": list, describe and call the crypto app, with a token and an API key', async () => {
  const [session] = blocks('A cfg call session').filter((b) => b.lang === 'bash');
  const printed: string[] = [];
  for (const line of session!.lines) printed.push(await run(line));
  const out = (fragment: string) => printed[session!.lines.findIndex((l) => l.includes(fragment))]!;
  assert.ok(out('cfg list').split('\n').includes('crypto.CryptoService'), out('cfg list'));
  assert.match(out('cfg describe'), /rpc WatchPrices \( \.crypto\.WatchPricesRequest \) returns \( stream \.crypto\.PriceUpdate \);/);
  assert.equal(JSON.parse(out('GetCoin')).coin.name, 'Bitcoin');
  assert.deepEqual(JSON.parse(out('Health/Check')), { status: 'SERVING' });
  assert.equal(JSON.parse(out('--token-user alice')).wallet.username, 'alice');
  assert.equal(JSON.parse(out('x-api-key')).wallet.username, 'alice');
  const imported = JSON.parse(out('ImportPrices'));
  assert.deepEqual(
    [imported.ticks, imported.prices.map((p: { symbol: string; priceUsd: string }) => `${p.symbol} ${p.priceUsd}`)],
    [2, ['BTC 65000', 'ETH 3200']],
  );
  const { fill } = JSON.parse(out('Trade'));
  assert.deepEqual(
    [fill.clientOrderId, fill.side, fill.priceUsd, fill.quoteAmount],
    ['o-1', 'TRADE_SIDE_BUY', '65000', '650'],
    'bought at the price just imported',
  );
  // The grpcurl block after it (run where grpcurl is installed).
  for (const block of blocks('A cfg call session')
    .filter((b) => b.lang === 'bash')
    .slice(1))
    for (const line of block.lines) await run(line);
  await stopServers();
});
