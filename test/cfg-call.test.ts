// `cfg call`, `cfg list` and `cfg describe` as a user runs them (the real `cfg`, spawned) against
// the crypto app served by a real `cfg rungrpc` on port 0: unary, server-streaming, client-streaming
// (ImportPrices from stdin) and bidi (Trade) calls, a status as the exit code, tokens, unknown
// methods. Client streams from files, the fallback to the project's descriptors and TLS (the
// greeter fixture): cfg-call-streams.test.ts; outside a project, cfg list and cfg describe:
// cfg-list-describe.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { replies, runCfg, spawnCfg } from './support/cfg-call.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

let app: CryptoEnv;
before(async () => {
  app = await startCrypto('sqlite');
});
after(async () => {
  await app?.stop();
});

const call = (args: string[], options: { cwd?: string; input?: string } = {}) =>
  runCfg(['call', app.address, ...args], { env: app.env, ...options });

test('unary: JSON in, the reply as indented JSON (one line with --compact), exit 0', async () => {
  const [pretty, compact, typed] = await Promise.all([
    call(['crypto.CryptoService/GetCoin', '{"symbol": "BTC"}']),
    call(['crypto.CryptoService/GetCoin', '-d', '{"symbol": "ETH"}', '--compact']),
    (await app.client()).getCoin({ symbol: 'BTC' }),
  ]);
  assert.equal(pretty.code, 0, pretty.stderr);
  assert.equal(pretty.stderr, '');
  const reply = JSON.parse(pretty.stdout) as {
    success: boolean;
    coin: { symbol: string; name: string; priceUsd: string; createdAt: string };
  };
  assert.deepEqual(
    [reply.success, reply.coin.symbol, reply.coin.name, reply.coin.priceUsd],
    [true, 'BTC', 'Bitcoin', typed.coin!.priceUsd],
  );
  assert.equal(reply.coin.createdAt, typed.coin!.createdAt!.toISOString(), 'a Timestamp in its canonical JSON form');
  assert.match(pretty.stdout, /^\{\n {2}"success": true,\n {2}"coin": \{\n/);
  assert.equal(compact.code, 0, compact.stderr);
  assert.equal(compact.stdout.split('\n').length, 2, 'one line and its newline');
  assert.equal((replies(compact.stdout)[0]!.coin as { symbol: string }).symbol, 'ETH');
});

test('server stream: each reply printed as it arrives, the call still open', async () => {
  const proc = spawnCfg(['call', app.address, 'crypto.CryptoService/WatchPrices', '{"symbols": ["SOL"]}', '--compact'], { env: app.env });
  try {
    // The current price first, then every change as it is written.
    await proc.waitFor('stdout', /"symbol":"SOL"/);
    await (await app.client('admin')).updateCoinPrice({ symbol: 'SOL', priceUsd: '151.25', change24hPercent: '1.5' });
    await proc.waitFor('stdout', /"priceUsd":"151.25"/);
    assert.ok(proc.running, 'the stream is still open: the replies came as they arrived');
    const prices = replies(proc.stdout).map((r) => [r.symbol, r.priceUsd]);
    assert.deepEqual(prices.at(-1), ['SOL', '151.25']);
    assert.ok(
      prices.every(([symbol]) => symbol === 'SOL'),
      JSON.stringify(prices),
    );
  } finally {
    await proc.stop();
  }
});

test('client stream: ImportPrices reads newline-delimited JSON ticks from stdin and prints the summary; a bad tick is INVALID_ARGUMENT, exit 3', async () => {
  const ticks =
    '{"symbol": "ADA", "priceUsd": "0.61"}\n{"symbol": "XRP", "priceUsd": "0.55", "change24hPercent": "-2"}\n{"symbol": "ADA", "priceUsd": "0.62"}\n';
  const [done, bad, refused] = await Promise.all([
    call(['crypto.CryptoService/ImportPrices', '--token-user', 'admin', '--compact'], { input: ticks }),
    call(['crypto.CryptoService/ImportPrices', '--token-user', 'admin'], { input: '{"symbol": "ADA", "priceUsd": "cheap"}\n' }),
    call(['crypto.CryptoService/ImportPrices', '--token-user', 'alice'], { input: ticks }),
  ]);
  assert.equal(done.code, 0, done.stderr);
  const summary = replies(done.stdout)[0] as {
    ticks: number;
    batches: number;
    prices: Array<{ symbol: string; priceUsd: string; change24hPercent: string }>;
  };
  assert.deepEqual([summary.ticks, summary.batches], [3, 1]);
  assert.deepEqual(
    summary.prices.map((p) => [p.symbol, p.priceUsd, p.change24hPercent]),
    [
      ['ADA', '0.62', '0.91'],
      ['XRP', '0.55', '-2'],
    ],
  );
  assert.equal((await (await app.client()).getCoin({ symbol: 'ADA' })).coin!.priceUsd, '0.62');
  assert.deepEqual(bad, {
    code: 3,
    stdout: '',
    stderr: 'error INVALID_ARGUMENT tick 0: price_usd must be a decimal number like "12.5" (got "cheap"). Nothing was applied.\n',
  });
  assert.deepEqual(refused, { code: 7, stdout: '', stderr: 'error PERMISSION_DENIED Staff access required\n' });
});

test('bidi: Trade answers each order from stdin as it comes, while stdin is open; the call ends OK when stdin does', async () => {
  const proc = spawnCfg(['call', app.address, 'crypto.CryptoService/Trade', '--token-user', 'alice', '--compact'], { env: app.env });
  try {
    proc.child.stdin!.write('{"order": {"clientOrderId": "call-1", "side": "TRADE_SIDE_BUY", "symbol": "SOL", "quantity": "0.5"}}\n');
    await proc.waitFor('stdout', /"fill":\{"clientOrderId":"call-1"/);
    assert.ok(proc.running, 'the fill came before the input ended');
    proc.child.stdin!.write(
      '{"order": {"clientOrderId": "call-2", "side": "TRADE_SIDE_SELL", "symbol": "SOL", "quantity": "1000"}}\n{"ping": {"nonce": "n1"}}\n',
    );
    await proc.waitFor('stdout', /"pong"/);
    proc.child.stdin!.write('{"order": {"clientOrderId": "call-1", "side": "TRADE_SIDE_BUY", "symbol": "SOL", "quantity": "0.5"}}\n');
    proc.child.stdin!.end();
    assert.equal((await proc.exited).code, 0, proc.stderr);
    const events = replies(proc.stdout);
    const sol = (await (await app.client()).getCoin({ symbol: 'SOL' })).coin!.priceUsd;
    const fill = events[0]!.fill as Record<string, unknown>;
    assert.deepEqual(
      [fill.side, fill.symbol, fill.quantity, fill.priceUsd, fill.quoteSymbol],
      ['TRADE_SIDE_BUY', 'SOL', '0.5', sol, 'USDT'],
    );
    assert.deepEqual(events.slice(1), [
      { rejection: { clientOrderId: 'call-2', code: 'FAILED_PRECONDITION', message: 'Insufficient SOL balance' } },
      { pong: { nonce: 'n1' } },
      {
        fill: {
          ...fill,
          replayed: true,
          balance: (events[3]!.fill as { balance: string }).balance,
          quoteBalance: (events[3]!.fill as { quoteBalance: string }).quoteBalance,
        },
      },
    ]);
  } finally {
    await proc.stop();
  }
  const anonymous = await call(['crypto.CryptoService/Trade'], { input: '{"ping": {}}\n' });
  assert.equal(anonymous.code, 16, anonymous.stderr);
  assert.match(anonymous.stderr, /^error UNAUTHENTICATED /);
});

test('a failed call: one line "error <STATUS> <message>" on stderr, the status code as exit code', async () => {
  const [missing, anonymous] = await Promise.all([
    call(['crypto.CryptoService/GetCoin', '{"symbol": "XYZ"}']),
    call(['crypto.CryptoService/GetWallet', '{"symbol": "BTC"}']),
  ]);
  assert.deepEqual(missing, { code: 5, stdout: '', stderr: 'error NOT_FOUND Coin XYZ not found\n' });
  assert.equal(anonymous.code, 16, anonymous.stderr);
  assert.match(anonymous.stderr, /^error UNAUTHENTICATED \S[^\n]*\n$/);
});

test('--token-user mints a token for a user of the project; -H sends metadata as given', async () => {
  const [alice, bob] = await Promise.all([
    call(['crypto.CryptoService/GetWallet', '{"symbol": "BTC"}', '--token-user', 'alice', '--compact']),
    call(['crypto.CryptoService/GetWallet', '{"symbol": "BTC"}', '-H', `authorization: Bearer ${await app.token('bob')}`, '--compact']),
  ]);
  assert.equal(alice.code, 0, alice.stderr);
  const wallet = replies(alice.stdout)[0]!.wallet as { username: string; balance: string };
  assert.deepEqual([wallet.username, wallet.balance], ['alice', '1.5']);
  assert.equal(bob.code, 0, bob.stderr);
  assert.equal((replies(bob.stdout)[0]!.wallet as { username: string }).username, 'bob');
  const nobody = await call(['crypto.CryptoService/GetWallet', '{}', '--token-user', 'nobody']);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /^error E_USER No user "nobody"\.\nhint {2}Create it: cfg createuser --username nobody\n$/);
});

test('an unknown method, service or field: a clear message naming what exists, exit 1', async () => {
  const [method, service, field, name] = await Promise.all([
    call(['crypto.CryptoService/GetCoins', '{"symbol": "BTC"}']),
    call(['crypto.CoinService/GetCoin']),
    call(['crypto.CryptoService/GetCoin', '{"symbl": "BTC"}']),
    call(['GetCoin']),
  ]);
  assert.equal(method.code, 1);
  assert.match(
    method.stderr,
    /^error E_NOT_FOUND crypto\.CryptoService has no method GetCoins\.\nhint {2}Its methods: GetCoin, ListCoins, .*WatchPrices, ImportPrices, Trade\n$/,
  );
  assert.equal(service.code, 1);
  assert.match(
    service.stderr,
    /^error E_NOT_FOUND 127\.0\.0\.1:\d+ has no service crypto\.CoinService \(by reflection\)\.\nhint {2}Its services: crypto\.CryptoService, grpc\.health\.v1\.Health, /,
  );
  assert.equal(field.code, 1);
  assert.match(
    field.stderr,
    /^error E_USAGE Request 1 is not a valid crypto\.GetCoinRequest: .*"symbl" is unknown\nhint {2}cfg describe \S+ crypto\.GetCoinRequest shows its fields\.\n$/,
  );
  assert.equal(name.code, 1);
  assert.match(name.stderr, /^error E_USAGE "GetCoin" is not a method name\./);
  for (const r of [method, service, field, name]) assert.equal(r.stdout, '');
});
