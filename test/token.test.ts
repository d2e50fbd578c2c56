// `cfg createuser` and `cfg token`, run as commands in a temp project with a migrated SQLite
// database: users created and updated with flags, permissions and groups; a token printed alone
// on stdout (for TOKEN=$(cfg token ...)), shaped like a simplejwt access token and signed with the
// project secret; every failure a named error with a hint.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import jwt from 'jsonwebtoken';
import { dbProject } from './support/db.ts';
import type { Project } from './fixtures/project.ts';

let project: Project;
const env = { DATABASE_URL: 'file:./var/users.sqlite3', CFG_SECRET_KEY: '', CFG_JWT_SECRET: '' };
const cfg = (...args: string[]) => project.run(args, env, 60_000);
function sql<T = Record<string, unknown>>(text: string): T[] {
  const db = new Database(project.path('var', 'users.sqlite3'), { readonly: true });
  try {
    return db.prepare(text).all() as T[];
  } finally {
    db.close();
  }
}

before(async () => {
  project = await dbProject();
  const migrated = await cfg('migrate');
  assert.equal(migrated.code, 0, migrated.stderr);
});
after(async () => {
  await project?.remove();
});

test('createuser creates a user with email, staff, permissions and groups; run again it updates', async () => {
  const created = await cfg(
    'createuser',
    '--username',
    'alice',
    '--email',
    'alice@example.com',
    '--staff',
    '--perm',
    'crypto.delete_coin',
    '--perm',
    'crypto.change_coin',
    '--create-perm',
    '--group',
    'editors',
  );
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /^created user alice \(id (\d+)\)\n$/);
  const updated = await cfg('createuser', '--username', 'alice', '--superuser', '--group', 'admins');
  assert.equal(updated.code, 0, updated.stderr);
  assert.match(updated.stdout, /^updated user alice \(id \d+\)\n$/);
  const [user] = sql<Record<string, unknown>>(`SELECT email, isActive, isStaff, isSuperuser FROM auth_user WHERE username = 'alice'`);
  assert.deepEqual(user, { email: 'alice@example.com', isActive: 1, isStaff: 1, isSuperuser: 1 }, 'the email is kept; flags are added');
  const perms = sql<{ p: string }>(
    `SELECT p.app || '.' || p.codename AS p FROM auth_user_user_permissions up JOIN auth_permission p ON p.id = up.permissionId ORDER BY p`,
  );
  assert.deepEqual(
    perms.map((r) => r.p),
    ['crypto.change_coin', 'crypto.delete_coin'],
  );
  const groups = sql<{ name: string }>(`SELECT g.name FROM auth_user_groups ug JOIN auth_group g ON g.id = ug.groupId ORDER BY g.name`);
  assert.deepEqual(
    groups.map((r) => r.name),
    ['admins', 'editors'],
    'groups are added, not replaced',
  );
});

test('createuser refuses a permission that does not exist, naming the known ones; --create-perm creates it', async () => {
  const seeded = await cfg('createuser', '--username', 'perms', '--perm', 'crypto.view_coin', '--create-perm');
  assert.equal(seeded.code, 0, seeded.stderr);
  const typo = await cfg('createuser', '--username', 'dave', '--perm', 'crypto.nonexistent_perm', '--perm', 'crypto.view_coin');
  assert.equal(typo.code, 1);
  assert.match(
    typo.stderr,
    /^error E_PERMISSION_UNKNOWN Unknown permission crypto\.nonexistent_perm; known: ([\w.]+, )*crypto\.view_coin(, [\w.]+)*\.\nhint {2}Use a known one, or add --create-perm to create it\.\n$/,
  );
  assert.deepEqual(sql(`SELECT id FROM auth_user WHERE username = 'dave'`), [], 'nothing was written');
  assert.deepEqual(sql(`SELECT id FROM auth_permission WHERE codename = 'nonexistent_perm'`), []);
  const created = await cfg('createuser', '--username', 'dave', '--perm', 'crypto.nonexistent_perm', '--create-perm');
  assert.equal(created.code, 0, created.stderr);
  assert.equal(sql(`SELECT id FROM auth_permission WHERE codename = 'nonexistent_perm'`).length, 1);
});

test('createuser refuses a malformed permission or username with a hint', async () => {
  const perm = await cfg('createuser', '--username', 'bob', '--perm', 'delete_coin');
  assert.equal(perm.code, 1);
  assert.match(perm.stderr, /E_USAGE Permission "delete_coin" must be "app\.codename"/);
  assert.match(perm.stderr, /hint .*--perm crypto\.delete_coin/);
  const name = await cfg('createuser', '--username', 'no spaces');
  assert.equal(name.code, 1);
  assert.match(name.stderr, /E_USAGE Username "no spaces" is not valid/);
  assert.deepEqual(sql(`SELECT id FROM auth_user WHERE username IN ('bob', 'no spaces')`), [], 'nothing was written');
});

test('token prints only a simplejwt-shaped access token, signed with the project secret', async () => {
  const r = await cfg('token', '--username', 'alice', '--ttl', '90s');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const secret = readFileSync(project.path('var', 'secret_key'), 'utf8').trim();
  const claims = jwt.verify(r.stdout.trim(), secret, { algorithms: ['HS256'] }) as Record<string, unknown>;
  const [{ id }] = sql<{ id: number }>(`SELECT id FROM auth_user WHERE username = 'alice'`) as [{ id: number }];
  assert.deepEqual(Object.keys(claims).sort(), ['exp', 'iat', 'jti', 'token_type', 'user_id']);
  assert.equal(claims.token_type, 'access');
  assert.equal(claims.user_id, id);
  assert.equal((claims.exp as number) - (claims.iat as number), 90);
  assert.match(String(claims.jti), /^[0-9a-f]{32}$/);
});

test('token uses CFG_SECRET_KEY when it is set', async () => {
  const r = await project.run(['token', '--username', 'alice'], { ...env, CFG_SECRET_KEY: 'from-the-environment' });
  assert.equal(r.code, 0, r.stderr);
  const claims = jwt.verify(r.stdout.trim(), 'from-the-environment', { algorithms: ['HS256'] }) as Record<string, unknown>;
  assert.equal((claims.exp as number) - (claims.iat as number), 3600, 'the default ttl is 1h');
});

test('token fails with a hint for an unknown user, an inactive user, a bad ttl and one past maxTokenLifetimeSeconds', async () => {
  const unknown = await cfg('token', '--username', 'nobody');
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /E_USER No user "nobody"/);
  assert.match(unknown.stderr, /hint .*cfg createuser --username nobody/);
  assert.equal((await cfg('createuser', '--username', 'ghost', '--inactive')).code, 0);
  const inactive = await cfg('token', '--username', 'ghost');
  assert.equal(inactive.code, 1);
  assert.match(inactive.stderr, /E_USER User "ghost" is inactive/);
  const ttl = await cfg('token', '--username', 'alice', '--ttl', '1y');
  assert.equal(ttl.code, 1);
  assert.match(ttl.stderr, /E_USAGE Duration "1y" is not valid/);
  const long = await cfg('token', '--username', 'alice', '--ttl', '2d');
  assert.equal(long.code, 1);
  assert.equal(long.stdout, '');
  assert.match(
    long.stderr,
    /E_USAGE A token lifetime of 172800 s is longer than grpc\.auth\.maxTokenLifetimeSeconds \(86400 s\): the server would refuse the token\./,
  );
  assert.match(long.stderr, /hint .*shorter --ttl, or raise grpc\.auth\.maxTokenLifetimeSeconds/);
  assert.equal((await cfg('token', '--username', 'alice', '--ttl', '1d')).code, 0, 'exactly the maximum is issued');
});
