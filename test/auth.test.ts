// JWT authentication on a real server with real users: every bad token is UNAUTHENTICATED with
// its own message, on public and private methods alike, while the server keeps serving; a token
// minted exactly as Django simplejwt does is accepted; requireAuth on and off; staff, permissions
// (direct, through a group, superuser) and inactive users.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { callError } from './fixtures/client.ts';
import jwt from 'jsonwebtoken';
import { cryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { configureLogging } from '../src/log/logger.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { cfg, startCrypto, type CryptoEnv } from './support/crypto-env.ts';

configureLogging({ level: 'silent' });
const SECRET = 'test-secret-key-for-crypto';
const ROOT = new URL('..', import.meta.url).pathname;

const fails = callError;

let app: CryptoEnv;
let ids: Record<string, number>;
const now = () => Math.floor(Date.now() / 1000);
/** Signed the way djangorestframework-simplejwt signs an access token (HS256, these claims). */
const simplejwt = (userId: number, extra: Record<string, unknown> = {}) =>
  jwt.sign({ token_type: 'access', exp: now() + 300, iat: now(), jti: 'a1b2c3d4e5f6', user_id: userId, ...extra }, SECRET, { algorithm: 'HS256' });

before(async () => {
  app = await startCrypto('sqlite');
  await cfg(['createuser', '--username', 'ghost', '--inactive'], app.env);
  await cfg(['createuser', '--username', 'grouped', '--group', 'coin-admins'], app.env);
  await cfg(['createuser', '--username', 'deleter', '--perm', 'crypto.delete_coin'], app.env);
  const rows = await app.query('SELECT id, username FROM auth_user');
  ids = Object.fromEntries(rows.map((r) => [String(r.username), Number(r.id)]));
});
after(async () => {
  await app?.stop();
});

describe('bad tokens', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cases: Array<[string, () => string, RegExp]> = [
    ['expired', () => simplejwt(ids.alice!, { exp: now() - 60 }), /expired/i],
    ['not yet valid', () => simplejwt(ids.alice!, { nbf: now() + 600 }), /not yet valid/i],
    ['bad signature', () => jwt.sign({ token_type: 'access', user_id: ids.alice, exp: now() + 60 }, 'another-secret', { algorithm: 'HS256' }), /signature/i],
    ['alg none', () => jwt.sign({ token_type: 'access', user_id: ids.alice, exp: now() + 60 }, '', { algorithm: 'none' }), /none/],
    ['other algorithm family (RS256)', () => jwt.sign({ token_type: 'access', user_id: ids.alice, exp: now() + 60 }, privateKey, { algorithm: 'RS256' }), /RS256 is not accepted/],
    ['other HS algorithm (HS512)', () => jwt.sign({ token_type: 'access', user_id: ids.alice, exp: now() + 60 }, SECRET, { algorithm: 'HS512' }), /HS512 is not accepted/],
    ['malformed', () => 'not.a.jwt', /Malformed/i],
    ['no user id', () => jwt.sign({ token_type: 'access', exp: now() + 60 }, SECRET), /user_id/],
    ['unknown user', () => simplejwt(999_999), /not found/],
    ['inactive user', () => simplejwt(ids.ghost!), /disabled/],
    ['refresh token', () => simplejwt(ids.alice!, { token_type: 'refresh' }), /access/],
  ];
  for (const [name, make, message] of cases) {
    test(`${name}: UNAUTHENTICATED on a public and on a private method`, async () => {
      const client = cryptoClient(app.address, { token: make() });
      try {
        for (const call of [client.getCoin({ symbol: 'BTC' }), client.getWallet({ symbol: 'BTC' })]) {
          const err = await fails(call);
          assert.equal(err.code, status.UNAUTHENTICATED, err.details);
          assert.match(err.details, message);
        }
      } finally {
        client.close();
      }
    });
  }
  test('a token without the "Bearer " prefix is UNAUTHENTICATED', async () => {
    const client = cryptoClient(app.address, { metadata: { authorization: simplejwt(ids.alice!) } });
    const err = await fails(client.getCoin({ symbol: 'BTC' }));
    client.close();
    assert.equal(err.code, status.UNAUTHENTICATED);
    assert.match(err.details, /Bearer/);
  });
  test('after all of them the server still serves', async () => {
    const anon = await app.client();
    assert.equal((await anon.getCoin({ symbol: 'BTC' })).coin?.symbol, 'BTC');
  });
});

test('a token minted exactly as simplejwt does calls a private method', async () => {
  const client = cryptoClient(app.address, { token: simplejwt(ids.alice!) });
  try {
    assert.equal((await client.getWallet({ symbol: 'BTC' })).wallet?.username, 'alice');
  } finally {
    client.close();
  }
});

test('cfg token mints the same shape: token_type access, user_id, exp, iat, jti', async () => {
  const token = await app.token('bob');
  const claims = jwt.verify(token, SECRET, { algorithms: ['HS256'] }) as Record<string, unknown>;
  assert.equal(claims.token_type, 'access');
  assert.equal(claims.user_id, ids.bob);
  assert.ok(typeof claims.jti === 'string' && typeof claims.exp === 'number' && typeof claims.iat === 'number');
  assert.equal((claims.exp as number) - (claims.iat as number), 3600);
});

test('permissions: direct grant, through a group, superuser; missing -> PERMISSION_DENIED', async () => {
  const admin = await app.client('admin');
  for (const sym of ['PA', 'PB', 'PC', 'PD']) await admin.createCoin({ symbol: sym, name: sym, priceUsd: '1', marketCapUsd: '', volume24hUsd: '' });
  assert.equal((await (await app.client('deleter')).deleteCoin({ symbol: 'PA' })).success, true, 'direct grant');
  const carol = await app.client('carol');
  const denied = await fails(carol.deleteCoin({ symbol: 'PB' }));
  assert.deepEqual([denied.code, denied.details], [status.PERMISSION_DENIED, 'Permission crypto.delete_coin required']);
  const grouped = cryptoClient(app.address, { token: simplejwt(ids.grouped!, { jti: 'before-grant' }) });
  assert.equal((await fails(grouped.deleteCoin({ symbol: 'PB' }))).code, status.PERMISSION_DENIED, 'the group has no permission yet');
  grouped.close();
  // Grant the permission to the group (as Django's admin would), then call with a fresh token.
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(String(app.env.DATABASE_URL).slice('file:'.length));
  db.prepare(`INSERT INTO auth_group_permissions ("groupId", "permissionId")
    SELECT g.id, p.id FROM auth_group g, auth_permission p WHERE g.name = 'coin-admins' AND p.app = 'crypto' AND p.codename = 'delete_coin'`).run();
  db.close();
  const grouped2 = cryptoClient(app.address, { token: simplejwt(ids.grouped!, { jti: 'after-grant' }) });
  assert.equal((await grouped2.deleteCoin({ symbol: 'PB' })).success, true, 'through the group');
  grouped2.close();
  assert.equal((await admin.deleteCoin({ symbol: 'PC' })).success, true, 'a superuser has every permission');
  const staffOnly = await fails(carol.updateCoinPrice({ symbol: 'PD', priceUsd: '2', change24hPercent: '' }));
  assert.equal(staffOnly.code, status.PERMISSION_DENIED);
});

describe('requireAuth: true', () => {
  let running: RunningServer;
  before(async () => {
    const config = resolveConfig(
      { grpc: { enabledApps: ['crypto'], server: { host: '127.0.0.1', port: 0, enableReflection: false }, proto: { autoGenerate: false }, auth: { requireAuth: true } }, logging: { logCalls: false } },
      { root: ROOT, env: { DATABASE_URL: app.env.DATABASE_URL, CFG_SECRET_KEY: SECRET } },
    );
    process.env.CFG_SECRET_KEY = SECRET;
    running = await startServer(config);
  });
  after(async () => {
    await running?.stop();
  });
  test('public methods need no token; the others do; a good token passes', async () => {
    const anon = cryptoClient(`127.0.0.1:${running.port}`);
    const alice = cryptoClient(`127.0.0.1:${running.port}`, { token: simplejwt(ids.alice!) });
    try {
      assert.equal((await anon.getCoin({ symbol: 'BTC' })).success, true, 'GetCoin is public');
      const err = await fails(anon.getPortfolio({}));
      assert.deepEqual([err.code, err.details], [status.UNAUTHENTICATED, 'Authentication required']);
      assert.ok((await alice.getPortfolio({})).wallets.length > 0);
    } finally {
      anon.close();
      alice.close();
    }
  });
});
