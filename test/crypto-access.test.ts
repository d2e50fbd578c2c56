// Who may call each crypto RPC, as proto/crypto_service.proto documents it and CryptoService.access
// declares it: a table of every RPC x role -> status against a real `cfg rungrpc` (the example's
// config: auth on, requireAuth off), each call's request invalid on purpose so that a caller who
// passes access gets the method's own answer and nothing is written. Then what the operations API
// shows for each method (the enforced access, not "public" for Transfer), and a server with
// grpc.auth off refusing what needs a user instead of serving it to anyone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { startTestServer } from 'cfg-grpc/testing';
import { cryptoClient, type CryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { CryptoServiceService, type CoinSort } from '../generated/crypto_service.ts';
import { upsertUser } from '../src/auth/manage.ts';
import { mintAccessToken } from '../src/auth/tokens.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { createDb } from '../src/db/client.ts';
import { parseDatabaseUrl } from '../src/db/url.ts';
import { configureLogging } from '../src/log/logger.ts';
import { REPO } from './fixtures/project.ts';
import { startCrypto, type CryptoEnv } from './support/crypto-env.ts';

configureLogging({ level: 'silent' });
const SECRET = 'test-secret-key-for-crypto';

const ROLES = ['anonymous', 'alice', 'staffer', 'adder', 'changer', 'deleter', 'admin'] as const;
type Role = (typeof ROLES)[number];
/** The method's own answer (the caller passed access), UNAUTHENTICATED, PERMISSION_DENIED. */
const [P, U, D] = ['passes', 'UNAUTHENTICATED', 'PERMISSION_DENIED'] as const;
type Outcome = typeof P | typeof U | typeof D;

const bad = '!';
/** Each RPC: a request that fails the method's own validation (or only reads), the status that gives, and the access its proto comment names. */
const RPCS: Record<string, { call: (c: CryptoClient) => Promise<unknown>; own: number; access: string; row: Outcome[] }> = {
  //                                                                                                        anonymous alice staffer adder changer deleter admin
  getCoin: { call: (c) => c.getCoin({ symbol: bad }), own: status.INVALID_ARGUMENT, access: 'public', row: [P, P, P, P, P, P, P] },
  listCoins: {
    call: (c) => c.listCoins({ pageSize: 0, pageToken: '', sort: 99 as CoinSort, includeInactive: false }),
    own: status.INVALID_ARGUMENT,
    access: 'public',
    row: [P, P, P, P, P, P, P],
  },
  searchCoins: {
    call: (c) => c.searchCoins({ query: ' ', pageSize: 0, pageToken: '' }),
    own: status.INVALID_ARGUMENT,
    access: 'public',
    row: [P, P, P, P, P, P, P],
  },
  getTopCoins: { call: (c) => c.getTopCoins({ limit: 101 }), own: status.INVALID_ARGUMENT, access: 'public', row: [P, P, P, P, P, P, P] },
  getTrendingCoins: {
    call: (c) => c.getTrendingCoins({ limit: 101 }),
    own: status.INVALID_ARGUMENT,
    access: 'public',
    row: [P, P, P, P, P, P, P],
  },
  getMarketStats: { call: (c) => c.getMarketStats({}), own: status.OK, access: 'public', row: [P, P, P, P, P, P, P] },
  watchPrices: {
    call: (c) => drain(c.watchPrices({ symbols: Array(101).fill('BTC') })),
    own: status.INVALID_ARGUMENT,
    access: 'public',
    row: [P, P, P, P, P, P, P],
  },
  createCoin: {
    call: (c) => c.createCoin({ symbol: bad, name: 'x', priceUsd: '1', marketCapUsd: '', volume24hUsd: '' }),
    own: status.INVALID_ARGUMENT,
    access: 'staff or crypto.add_coin',
    row: [U, D, P, P, D, D, P],
  },
  updateCoinPrice: {
    call: (c) => c.updateCoinPrice({ symbol: bad, priceUsd: '1', change24hPercent: '' }),
    own: status.INVALID_ARGUMENT,
    access: 'staff or crypto.change_coin',
    row: [U, D, P, D, P, D, P],
  },
  deleteCoin: {
    call: (c) => c.deleteCoin({ symbol: bad }),
    own: status.INVALID_ARGUMENT,
    access: 'crypto.delete_coin',
    row: [U, D, D, D, D, P, P],
  },
  getWallet: { call: (c) => c.getWallet({ symbol: bad }), own: status.INVALID_ARGUMENT, access: 'user', row: [U, P, P, P, P, P, P] },
  listWallets: {
    call: (c) => c.listWallets({ pageSize: 101, pageToken: '' }),
    own: status.INVALID_ARGUMENT,
    access: 'user',
    row: [U, P, P, P, P, P, P],
  },
  getPortfolio: { call: (c) => c.getPortfolio({}), own: status.OK, access: 'user', row: [U, P, P, P, P, P, P] },
  transfer: {
    call: (c) => c.transfer({ symbol: bad, amount: '1', toUsername: 'bob', idempotencyKey: 'access-table' }),
    own: status.INVALID_ARGUMENT,
    access: 'user',
    row: [U, P, P, P, P, P, P],
  },
  deposit: {
    call: (c) => c.deposit({ symbol: bad, amount: '1', idempotencyKey: 'access-table' }),
    own: status.INVALID_ARGUMENT,
    access: 'user',
    row: [U, P, P, P, P, P, P],
  },
  withdraw: {
    call: (c) => c.withdraw({ symbol: bad, amount: '1', idempotencyKey: 'access-table' }),
    own: status.INVALID_ARGUMENT,
    access: 'user',
    row: [U, P, P, P, P, P, P],
  },
  importPrices: {
    call: (c) => c.importPrices([{ symbol: bad, priceUsd: '1', change24hPercent: '' }]),
    own: status.INVALID_ARGUMENT,
    access: 'staff',
    row: [U, D, P, D, D, D, P],
  },
  trade: { call: (c) => drain(c.trade([{ kind: undefined }])), own: status.INVALID_ARGUMENT, access: 'user', row: [U, P, P, P, P, P, P] },
};

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) break;
}

/** The status a call ended with (OK = 0), and its message. */
async function outcome(call: Promise<unknown>): Promise<[number, string]> {
  try {
    await call;
    return [status.OK, ''];
  } catch (err) {
    return [(err as ServiceError).code, (err as ServiceError).details];
  }
}

describe('crypto RPC access', () => {
  let app: CryptoEnv;
  const clients = new Map<Role, CryptoClient>();
  before(async () => {
    app = await startCrypto('sqlite');
    // The roles' users and tokens, made in this process (as cfg createuser and cfg token would).
    const db = await createDb(parseDatabaseUrl(String(app.env.DATABASE_URL), REPO));
    const ids: Record<string, number> = {};
    try {
      for (const spec of [
        { username: 'staffer', staff: true },
        { username: 'adder', perm: ['crypto.add_coin'] },
        { username: 'changer', perm: ['crypto.change_coin'] },
        { username: 'deleter', perm: ['crypto.delete_coin'] },
      ])
        await upsertUser(db, spec);
      for (const u of await db.user.findMany({ select: { id: true, username: true } })) ids[u.username] = u.id;
    } finally {
      await db.$disconnect();
    }
    const signing = resolveConfig({ grpc: { auth: { jwtSecretKey: SECRET } } }, { root: REPO, env: {} });
    for (const role of ROLES)
      clients.set(role, cryptoClient(app.address, role === 'anonymous' ? {} : { token: mintAccessToken(signing, ids[role]!, 600) }));
  });
  after(async () => {
    for (const c of clients.values()) c.close();
    await app?.stop();
  });

  test('every RPC x role: the declared access, enforced before the method runs', async () => {
    assert.deepEqual(
      Object.keys(RPCS).sort(),
      Object.keys((await import('../generated/crypto_service.ts')).CryptoServiceService).sort(),
      'the table covers every RPC',
    );
    const rows = async () =>
      (
        await app.query(
          `SELECT (SELECT COUNT(*) FROM crypto_transfer) AS transfers, (SELECT COUNT(*) FROM crypto_coin) AS coins, (SELECT SUM("balanceUnits") FROM crypto_wallet) AS total`,
        )
      )[0];
    const before = await rows();
    const seen: string[] = [];
    const wanted: string[] = [];
    for (const [rpc, { call, own, access, row }] of Object.entries(RPCS)) {
      for (const [i, role] of ROLES.entries()) {
        const [code, message] = await outcome(call(clients.get(role)!));
        const expected = row[i]!;
        const denied =
          access === 'staff'
            ? 'Staff access required'
            : access.startsWith('staff or ')
              ? `Staff or permission ${access.slice(9)} required`
              : `Permission ${access} required`;
        const refusal = expected === U ? 'Authentication required' : expected === D ? denied : '';
        const refused = code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED;
        seen.push(`${rpc} ${role}: ${status[code]}${refused ? ` "${message}"` : ''}`);
        wanted.push(`${rpc} ${role}: ${status[expected === P ? own : status[expected]]}${refusal ? ` "${refusal}"` : ''}`);
      }
    }
    assert.deepEqual(seen, wanted);
    assert.deepEqual(await rows(), before, 'the table wrote nothing');
  });

  test('/api/services shows each method as enforced, on the example config (requireAuth off)', async () => {
    const server = await startTestServer({
      root: REPO,
      apps: ['crypto'],
      database: app.env.DATABASE_URL,
      config: {
        grpc: { server: { enableReflection: false }, http: { enabled: true, host: '127.0.0.1', port: 0 }, auth: { requireAuth: false } },
      },
    });
    try {
      const [{ id }] = (await app.query(`SELECT id FROM auth_user WHERE username = 'admin'`)) as [{ id: string }];
      const res = await fetch(`http://127.0.0.1:${server.running.httpPort}/api/services`, {
        headers: { authorization: `Bearer ${server.token(Number(id), 60)}` },
      });
      const { services } = (await res.json()) as {
        services: Array<{ name: string; methods: Array<{ path: string; key?: string; name: string; access: string; public: boolean }> }>;
      };
      const crypto = services.find((s) => s.name === 'crypto.CryptoService')!;
      const shown = Object.fromEntries(crypto.methods.map((m) => [m.name, [m.access, m.public]]));
      const expected = Object.fromEntries(
        Object.entries(RPCS).map(([key, r]) => [key[0]!.toUpperCase() + key.slice(1), [r.access, r.access === 'public']]),
      );
      assert.deepEqual(shown, expected);
    } finally {
      await server.stop();
    }
  });

  test('with grpc.auth off, a method that needs a user is refused, not served to anyone', async () => {
    const server = await startTestServer({
      root: REPO,
      apps: ['crypto'],
      database: app.env.DATABASE_URL,
      config: { grpc: { server: { enableReflection: false }, auth: { enabled: false } } },
    });
    const client = server.client(CryptoServiceService);
    try {
      assert.equal((await client.getCoin({ symbol: 'BTC' })).coin?.symbol, 'BTC');
      for (const rpc of ['deleteCoin', 'deposit'] as const) {
        const [code, message] = await outcome(RPCS[rpc]!.call(client));
        assert.deepEqual(
          [status[code], message],
          [
            'UNAUTHENTICATED',
            `Authentication required: ${rpc[0]!.toUpperCase() + rpc.slice(1)} needs a signed-in caller, and this server has grpc.auth.enabled false`,
          ],
        );
      }
    } finally {
      await server.stop();
    }
  });
});
