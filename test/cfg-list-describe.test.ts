// `cfg list` and `cfg describe` (the real `cfg`, spawned) against the crypto app served by a real
// `cfg rungrpc` on port 0, by reflection and from the project's descriptor set; and `cfg call` run
// outside any project, where reflection is all it needs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tempDir } from './fixtures/project.ts';
import { runCfg } from './support/cfg-call.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

let app: CryptoEnv;
before(async () => {
  app = await startCrypto('sqlite');
});
after(async () => {
  await app?.stop();
});

test('outside a project: reflection is all cfg call needs; --token-user needs the project', async () => {
  const dir = await tempDir('cfg-call-outside-');
  const env = { ...app.env, DATABASE_URL: '' };
  const [health, token] = await Promise.all([
    runCfg(['call', app.address, 'grpc.health.v1.Health/Check'], { cwd: dir, env }),
    runCfg(['call', app.address, 'crypto.CryptoService/GetWallet', '{"symbol": "BTC"}', '--token-user', 'alice'], { cwd: dir, env }),
  ]);
  assert.deepEqual([health.code, JSON.parse(health.stdout)], [0, { status: 'SERVING' }], health.stderr);
  assert.equal(token.code, 1);
  assert.match(token.stderr, /^error E_CONFIG_NOT_FOUND /);
});

test('list and describe: the same services by reflection and from the project, as .proto text', async () => {
  const [remote, local, methods, service, message, enumText, method] = await Promise.all([
    runCfg(['list', app.address]),
    runCfg(['list']),
    runCfg(['list', app.address, 'crypto.CryptoService']),
    runCfg(['describe', app.address, 'crypto.CryptoService']),
    runCfg(['describe', app.address, 'crypto.Coin']),
    runCfg(['describe', 'crypto.CoinSort']),
    runCfg(['describe', app.address, 'crypto.CryptoService.WatchPrices']),
  ]);
  for (const r of [remote, local, methods, service, message, enumText, method]) assert.equal(r.code, 0, r.stderr);
  const services = remote.stdout.split('\n').filter(Boolean);
  assert.ok(services.includes('crypto.CryptoService') && services.includes('grpc.health.v1.Health'), remote.stdout);
  assert.equal(local.stdout, remote.stdout, 'the project describes what the server reflects');
  assert.ok(methods.stdout.split('\n').includes('crypto.CryptoService.GetCoin'), methods.stdout);
  assert.match(
    service.stdout,
    /^crypto\.CryptoService is a service:\nservice CryptoService \{\n {2}rpc GetCoin \( \.crypto\.GetCoinRequest \) returns \( \.crypto\.CoinResponse \);\n/,
  );
  assert.match(service.stdout, /^ {2}rpc WatchPrices \( \.crypto\.WatchPricesRequest \) returns \( stream \.crypto\.PriceUpdate \);\n/m);
  assert.match(
    service.stdout,
    /^ {2}rpc ImportPrices \( stream \.crypto\.ImportPricesRequest \) returns \( \.crypto\.ImportPricesResponse \);\n/m,
    'a client stream',
  );
  assert.match(
    service.stdout,
    /^ {2}rpc Trade \( stream \.crypto\.TradeRequest \) returns \( stream \.crypto\.TradeResponse \);\n\}\n$/m,
    'bidi',
  );
  assert.match(message.stdout, /^message Coin \{\n {2}int32 id = 1;\n[\s\S]* {2}\.google\.protobuf\.Timestamp created_at = 9;\n/m);
  assert.equal(
    enumText.stdout,
    'crypto.CoinSort is an enum:\nenum CoinSort {\n  COIN_SORT_UNSPECIFIED = 0;\n  COIN_SORT_MARKET_CAP = 1;\n  COIN_SORT_SYMBOL = 2;\n  COIN_SORT_PRICE = 3;\n}\n',
  );
  assert.equal(
    method.stdout,
    'crypto.CryptoService.WatchPrices is a method:\nrpc WatchPrices ( .crypto.WatchPricesRequest ) returns ( stream .crypto.PriceUpdate );\n',
  );
});
