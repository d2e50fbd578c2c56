// The API key library (src/auth/api-keys.ts) on SQLite and PostgreSQL: a key is shown once and
// only its SHA-256 is stored; list shows prefixes and owners; revoke deactivates and drops every
// in-process cache entry of the key at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { createApiKey, hashApiKey, listApiKeys, revokeApiKey } from '../src/auth/api-keys.ts';
import { AuthCache } from '../src/auth/cache.ts';
import { PROVIDERS, withMigratedDb } from './support/db.ts';

test('hashApiKey is the hex SHA-256 of the key', () => {
  assert.equal(hashApiKey('cfg_abc'), createHash('sha256').update('cfg_abc').digest('hex'));
  assert.notEqual(hashApiKey('cfg_abc'), hashApiKey('cfg_abd'));
});

for (const provider of PROVIDERS) {
  describe(`API keys on ${provider}`, () => {
    test('create shows the key once, stores only its hash; list; revoke', async () => {
      await withMigratedDb(provider, async (db, database) => {
        const alice = await db.user.create({ data: { username: 'alice' } });
        const soon = new Date(Date.now() + 86_400_000);
        const a = await createApiKey(db, { userId: alice.id, name: 'export', expiresAt: soon });
        const b = await createApiKey(db, { userId: alice.id, name: 'ci' });
        assert.match(a.key, /^cfg_[A-Za-z0-9_-]{43}$/);
        assert.notEqual(a.key, b.key);
        assert.equal(a.apiKey.prefix, a.key.slice(0, 12));
        assert.deepEqual(
          { ...a.apiKey, createdAt: undefined },
          {
            id: a.apiKey.id,
            name: 'export',
            prefix: a.key.slice(0, 12),
            userId: alice.id,
            username: 'alice',
            isActive: true,
            createdAt: undefined,
            expiresAt: soon,
            lastUsedAt: null,
            createdById: null,
            createdBy: null,
          },
        );
        assert.ok(a.apiKey.createdAt instanceof Date);

        // The database holds the hash and the prefix, never the key.
        const rows = await database.query('SELECT * FROM grpc_api_key ORDER BY id');
        assert.equal(rows.length, 2);
        assert.equal(rows[0]!.keyHash, hashApiKey(a.key));
        assert.ok(!JSON.stringify(rows).includes(a.key.slice(12)), 'the secret part of the key is stored nowhere');

        const listed = await listApiKeys(db);
        assert.deepEqual(
          listed.map((k) => [k.name, k.username, k.isActive]),
          [
            ['export', 'alice', true],
            ['ci', 'alice', true],
          ],
        );

        // Revocation drops the key's cache entries in this process at once, and only those.
        const cache = new AuthCache();
        const user = {
          id: alice.id,
          username: 'alice',
          email: '',
          isActive: true,
          isStaff: false,
          isSuperuser: false,
          permissions: new Set<string>(),
        };
        cache.set(a.key, { user, auth: { kind: 'apiKey', keyId: a.apiKey.id }, until: Infinity });
        cache.set(b.key, { user, auth: { kind: 'apiKey', keyId: b.apiKey.id }, until: Infinity });
        assert.equal(await revokeApiKey(db, a.apiKey.id), true);
        assert.equal(cache.get(a.key, Date.now()), undefined);
        assert.ok(cache.get(b.key, Date.now()));
        assert.deepEqual(
          (await listApiKeys(db)).map((k) => k.isActive),
          [false, true],
        );
        assert.equal(await revokeApiKey(db, a.apiKey.id), true, 'revoking again still finds the key');
        assert.equal(await revokeApiKey(db, 999_999), false);
      });
    });

    test('an unknown user or an empty name is refused', async () => {
      await withMigratedDb(provider, async (db) => {
        await assert.rejects(createApiKey(db, { userId: 4242, name: 'x' }), /No user with id 4242/);
        const bob = await db.user.create({ data: { username: 'bob' } });
        await assert.rejects(createApiKey(db, { userId: bob.id, name: '  ' }), /name/);
        assert.deepEqual(await listApiKeys(db), []);
      });
    });
  });
}
