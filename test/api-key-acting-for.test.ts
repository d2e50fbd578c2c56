// Acting on another user's API keys, on SQLite and PostgreSQL, over the HTTP side port of a real
// server: every role (anonymous, plain user, plain user holding cfg.manage_api_keys, staff, staff
// holding it, superuser) x every target (the caller's own key, another plain user's, a
// superuser's) x every operation (create, list, revoke) -> the HTTP status. One rule decides
// (src/auth/acting-for.ts): another user's keys need a superuser or cfg.manage_api_keys, and never
// a user with more rights than the caller. Who made a key for whom is stored, shown and logged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { actingForDenied, MANAGE_API_KEYS } from '../src/auth/acting-for.ts';
import { createApiKey } from '../src/auth/api-keys.ts';
import { upsertUser, type UserSpec } from '../src/auth/manage.ts';
import type { AuthUser } from '../src/auth/types.ts';
import { configureLogging } from '../src/log/logger.ts';
import { PROVIDERS } from './support/db.ts';
import { opsBed, type OpsBed } from './support/ops-bed.ts';

const ROLES = ['anonymous', 'plain', 'holder', 'staffer', 'manager', 'root'] as const;
const TARGETS = ['own', 'carol', 'root2'] as const;
type Role = (typeof ROLES)[number];
type Target = (typeof TARGETS)[number];

/**
 * Expected HTTP status per role and target, for create (201 made / 403 refused), list (200 shown
 * / "hidden") and revoke (200 / 403). The side port is for staff: anonymous 401, non-staff 403.
 */
const ALLOWED: Record<Role, Record<Target, boolean> | 401 | 403> = {
  anonymous: 401,
  plain: 403,
  holder: 403,
  staffer: { own: true, carol: false, root2: false },
  manager: { own: true, carol: true, root2: false },
  root: { own: true, carol: true, root2: true },
};

for (const provider of PROVIDERS) {
  describe(`acting for another user's API keys on ${provider}`, () => {
    let bed: OpsBed;
    const ids = {} as Record<Role | 'carol' | 'root2', number>;
    const auth = (role: Role) => (role === 'anonymous' ? undefined : bed.token(ids[role]));
    const owner = (role: Role, target: Target) => (target === 'own' ? role : target);
    before(async () => {
      bed = await opsBed(provider);
      const user = async (username: string, spec: Omit<UserSpec, 'username'>) => (await upsertUser(bed.db, { username, ...spec })).user.id;
      ids.plain = bed.ids.bob;
      ids.manager = bed.ids.ops; // staff, holding cfg.manage_api_keys
      ids.holder = await user('holder', { perm: [MANAGE_API_KEYS] });
      ids.staffer = await user('staffer', { staff: true });
      ids.root = await user('root', { superuser: true });
      ids.carol = await user('carol', {});
      ids.root2 = await user('root2', { superuser: true });
      ids.anonymous = 0;
    });
    after(() => bed?.close());

    test('create: POST /api/keys for oneself, another user, a superuser', async () => {
      const got: string[] = [];
      const want: string[] = [];
      for (const role of ROLES) {
        for (const target of TARGETS) {
          if (role === 'anonymous' && target === 'own') continue;
          const username = owner(role, target) === 'plain' ? 'bob' : owner(role, target) === 'manager' ? 'ops' : owner(role, target);
          const r = await bed.http('/api/keys', {
            method: 'POST',
            auth: auth(role),
            body: JSON.stringify({ name: `${role}->${target}`, username }),
          });
          const allowed = ALLOWED[role];
          const expected = typeof allowed === 'number' ? allowed : allowed[target] ? 201 : 403;
          const info = r.json.apiKey as { username: string; createdById: number; createdBy: string } | undefined;
          got.push(
            `${role} ${target}: ${r.status}${info ? ` for ${info.username}, made by ${info.createdBy} (${info.createdById})` : ''}${r.status === 403 ? ` ${r.json.error}` : ''}`,
          );
          want.push(
            `${role} ${target}: ${expected}${expected === 201 ? ` for ${username}, made by ${role === 'manager' ? 'ops' : role} (${ids[role]})` : ''}${expected === 403 ? ' forbidden' : ''}`,
          );
        }
      }
      assert.deepEqual(got, want);
      const made = await bed.db.apiKey.findMany({ where: { name: { contains: '->' } }, select: { name: true } });
      assert.deepEqual(
        made.map((k) => k.name).sort(),
        want
          .filter((w) => / 201 /.test(w))
          .map((w) => w.replace(/ (\w+): 201 .*$/, '->$1'))
          .sort(),
        'only the allowed keys exist',
      );
    });

    test('list: GET /api/keys shows only the keys the caller may manage; revoke: DELETE the same', async () => {
      const keyOf = async (userId: number, name: string) => (await createApiKey(bed.db, { userId, name })).apiKey.id;
      const got: string[] = [];
      const want: string[] = [];
      for (const role of ROLES) {
        const keys = Object.fromEntries(
          await Promise.all(
            TARGETS.map(async (t) => [t, await keyOf(t === 'own' ? ids[role] || ids.carol : ids[t], `list ${role} ${t}`)] as const),
          ),
        );
        const listed = await bed.http('/api/keys', { auth: auth(role) });
        const allowed = ALLOWED[role];
        for (const target of TARGETS) {
          if (role === 'anonymous' && target === 'own') continue;
          const shown = listed.status === 200 && (listed.json.keys as Array<{ id: number }>).some((k) => k.id === keys[target]);
          const revoked = await bed.http(`/api/keys/${keys[target]}`, { method: 'DELETE', auth: auth(role) });
          const active = (await bed.db.apiKey.findUniqueOrThrow({ where: { id: keys[target] } })).isActive;
          got.push(
            `${role} ${target}: list ${listed.status}${listed.status === 200 ? (shown ? ' shown' : ' hidden') : ''}, revoke ${revoked.status}, ${active ? 'active' : 'revoked'}`,
          );
          const ok = typeof allowed !== 'number' && allowed[target];
          const list = typeof allowed === 'number' ? `${allowed}` : `200 ${ok ? 'shown' : 'hidden'}`;
          want.push(
            `${role} ${target}: list ${list}, revoke ${typeof allowed === 'number' ? allowed : ok ? 200 : 403}, ${ok ? 'revoked' : 'active'}`,
          );
        }
      }
      assert.deepEqual(got, want);
    });

    test('who made a key for whom: stored, listed, and logged', async () => {
      const lines: string[] = [];
      const write = process.stderr.write.bind(process.stderr);
      configureLogging({ format: 'json', levels: { 'grpc.auth': 'info' } });
      process.stderr.write = ((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      }) as typeof process.stderr.write;
      try {
        const r = await bed.http('/api/keys', {
          method: 'POST',
          auth: bed.token(ids.manager),
          body: JSON.stringify({ name: 'made for carol', username: 'carol' }),
        });
        assert.equal(r.status, 201, r.text);
        const id = (r.json.apiKey as { id: number }).id;
        const row = await bed.db.apiKey.findUniqueOrThrow({ where: { id } });
        assert.deepEqual([row.userId, row.createdById], [ids.carol, ids.manager]);
        const listed = (await bed.http('/api/keys', { auth: bed.token(ids.root) })).json.keys as Array<{
          id: number;
          username: string;
          createdBy: string | null;
        }>;
        assert.deepEqual(
          listed.find((k) => k.id === id),
          { ...listed.find((k) => k.id === id), username: 'carol', createdBy: 'ops' },
        );
        assert.equal((await bed.http(`/api/keys/${id}`, { method: 'DELETE', auth: bed.token(ids.root) })).status, 200);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.stderr.write = write;
        configureLogging({ levels: { 'grpc.auth': 'silent' } });
      }
      const text = lines.join('');
      assert.match(
        text,
        new RegExp(`API key \\d+ \\\\"made for carol\\\\" for carol \\(id ${ids.carol}\\) created by ops \\(id ${ids.manager}\\)`),
      );
      assert.match(text, new RegExp(`API key \\d+ revoked by root \\(id ${ids.root}\\)`));
    });
  });
}

test('the rule: oneself always; others need superuser or cfg.manage_api_keys, and never more rights than the actor', () => {
  const u = (id: number, flags: Partial<AuthUser> = {}): AuthUser => ({
    id,
    username: `u${id}`,
    email: '',
    isActive: true,
    isStaff: false,
    isSuperuser: false,
    permissions: new Set(),
    ...flags,
  });
  const manager = u(1, { isStaff: true, permissions: new Set([MANAGE_API_KEYS, 'crypto.add_coin']) });
  const cases: Array<[string, AuthUser, AuthUser, RegExp | null]> = [
    ['oneself, no rights', u(2), u(2), null],
    ['a plain user for another', u(2), u(3), /needs a superuser or the cfg\.manage_api_keys permission/],
    ['staff for another', u(2, { isStaff: true }), u(3), /needs a superuser/],
    ['manager for a plain user', manager, u(3), null],
    ['manager for a staff user with fewer permissions', manager, u(3, { isStaff: true, permissions: new Set(['crypto.add_coin']) }), null],
    [
      'manager for a user holding a permission it lacks',
      manager,
      u(3, { permissions: new Set(['crypto.delete_coin']) }),
      /u3 holds crypto\.delete_coin, which u1 does not/,
    ],
    ['manager for a superuser', manager, u(3, { isSuperuser: true, isStaff: true }), /u3 is a superuser: only a superuser/],
    [
      'non-staff holder for a staff user',
      u(2, { permissions: new Set([MANAGE_API_KEYS]) }),
      u(3, { isStaff: true }),
      /u3 is staff and u2 is not/,
    ],
    ['superuser for a superuser', u(2, { isSuperuser: true }), u(3, { isSuperuser: true }), null],
    ['inactive superuser for another', u(2, { isSuperuser: true, isActive: false }), u(3), /inactive/],
  ];
  for (const [name, actor, target, expected] of cases) {
    const why = actingForDenied(actor, target);
    if (expected === null) assert.equal(why, null, name);
    else assert.match(why ?? 'allowed', expected, name);
  }
});
