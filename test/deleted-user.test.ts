// A user deleted outside the server (SQL, another process) while its token or API key is in the
// server's auth cache, on SQLite and PostgreSQL: no call in its name ends INTERNAL. Deposit, whose
// wallet insert names the user, is UNAUTHENTICATED ("Token user not found" / "API key user not
// found") and drops the cache entry, so the next call is refused at authentication; every other
// RPC that needs a user answers without INTERNAL too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { cryptoClient, type CryptoClient } from '../apps/crypto/grpc_services/client.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { upsertUser } from '../src/auth/manage.ts';
import { mintAccessToken } from '../src/auth/tokens.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import type { CfgConfig } from '../src/config/types.ts';
import { configureLogging } from '../src/log/logger.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { REPO } from './fixtures/project.ts';
import { startCrypto, type CryptoEnv, type Provider } from './support/crypto-env.ts';

configureLogging({ level: 'silent' });
const SECRET = 'test-secret-key-for-crypto';

/** The status a call ended with (OK = 0), and its message. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (err) {
    return `${status[(err as ServiceError).code]}: ${(err as ServiceError).details}`;
  }
}

const RPCS: Record<string, (c: CryptoClient) => Promise<unknown>> = {
  deposit: (c) => c.deposit({ symbol: 'BTC', amount: '1', idempotencyKey: `gone-${Math.random()}` }),
  withdraw: (c) => c.withdraw({ symbol: 'BTC', amount: '1', idempotencyKey: `gone-${Math.random()}` }),
  transfer: (c) => c.transfer({ symbol: 'BTC', amount: '1', toUsername: 'bob', idempotencyKey: `gone-${Math.random()}` }),
  getWallet: (c) => c.getWallet({ symbol: 'BTC' }),
  listWallets: (c) => c.listWallets({ pageSize: 0, pageToken: '' }),
  getPortfolio: (c) => c.getPortfolio({}),
};

for (const provider of ['sqlite', 'postgresql'] as Provider[]) {
  describe(`a user deleted while its identity is cached, on ${provider}`, () => {
    let app: CryptoEnv;
    let config: CfgConfig;
    let running: RunningServer;
    let n = 0;
    /** Runs a writing statement from a connection of its own, as another process would. */
    async function sql(text: string): Promise<void> {
      if (provider === 'postgresql') {
        await app.query(text);
        return;
      }
      const db = new Database(String(app.env.DATABASE_URL).slice('file:'.length));
      try {
        db.prepare(text).run();
      } finally {
        db.close();
      }
    }
    /** A new user, and a client authenticated as it by a token or by an API key, already cached by the server. */
    async function cachedVictim(by: 'token' | 'key'): Promise<{ client: CryptoClient; id: number }> {
      const db = running.db;
      const { user } = await upsertUser(db, { username: `victim${++n}` });
      const metadata: Record<string, string> =
        by === 'token'
          ? { authorization: `Bearer ${mintAccessToken(config, user.id, 300)}` }
          : { 'x-api-key': (await createApiKey(db, { userId: user.id, name: 'doomed' })).key };
      const client = cryptoClient(`127.0.0.1:${running.port}`, { metadata });
      assert.equal(await outcome(client.getPortfolio({})), 'OK', 'authenticated, and now cached');
      return { client, id: user.id };
    }

    before(async () => {
      app = await startCrypto(provider);
      // The cache outlives the test, and API keys are never rechecked: only the deletion can show.
      config = resolveConfig(
        {
          grpc: {
            enabledApps: ['crypto'],
            server: { host: '127.0.0.1', port: 0, enableReflection: false },
            proto: { autoGenerate: false },
            auth: { jwtSecretKey: SECRET, userCacheTtlMs: 600_000, apiKeyRecheckMs: 3_600_000 },
            monitor: { enabled: false },
          },
          logging: { logCalls: false },
        },
        { root: REPO, env: { DATABASE_URL: app.env.DATABASE_URL } },
      );
      running = await startServer(config);
    });
    after(async () => {
      await running?.stop();
      await app?.stop();
    });

    for (const by of ['token', 'key'] as const) {
      test(`Deposit by a deleted user's cached ${by} is UNAUTHENTICATED, and so is the next call`, async () => {
        const { client, id } = await cachedVictim(by);
        await sql(`DELETE FROM auth_user WHERE id = ${id}`);
        try {
          assert.equal(await outcome(RPCS.deposit!(client)), `UNAUTHENTICATED: ${by === 'token' ? 'Token' : 'API key'} user not found`);
          assert.equal(
            await outcome(client.getPortfolio({})),
            `UNAUTHENTICATED: ${by === 'token' ? 'Token user not found' : 'Invalid API key'}`,
            'the cache entry went at once',
          );
          assert.deepEqual(await app.query(`SELECT id FROM crypto_wallet WHERE "userId" = ${id}`), [], 'nothing was written');
        } finally {
          client.close();
        }
      });
    }

    test('no RPC that needs a user ends INTERNAL for a deleted user', async () => {
      const seen: Record<string, string> = {};
      for (const [rpc, call] of Object.entries(RPCS)) {
        const { client, id } = await cachedVictim('token');
        await sql(`DELETE FROM auth_user WHERE id = ${id}`);
        seen[rpc] = await outcome(call(client));
        client.close();
      }
      for (const [rpc, result] of Object.entries(seen)) assert.doesNotMatch(result, /^(INTERNAL|UNKNOWN)/, `${rpc}: ${result}`);
      assert.equal(seen.deposit, 'UNAUTHENTICATED: Token user not found');
    });
  });
}
