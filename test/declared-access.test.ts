// Access declared on a service class (static access, publicMethods as its shorthand, requireAuth
// as the floor) is resolved once when the class is registered on a real CfgServer: each method's
// MethodInfo carries what the auth interceptor enforces; a declaration that names no method, is
// malformed, or contradicts another stops registration with the class and method named. The
// check itself: anonymous, user, staff, permission holder and superuser against each kind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CryptoServiceService } from '../generated/crypto_service.ts';
import type { AuthUser } from '../src/auth/types.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { checkAccess } from '../src/auth/access.ts';
import { resolveAccess, type MethodAccess } from '../src/call/access.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import { AuthRequiredService } from '../src/services/auth-required-service.ts';
import { BaseService } from '../src/services/base-service.ts';
import { REPO } from './fixtures/project.ts';

const config = (auth: Record<string, unknown> = {}) => resolveConfig({ grpc: { auth } }, { root: REPO, env: {} });

/** The label of each method after registering `cls` (only those named in `keys`). */
function labels(cls: new () => object, keys: string[], auth: Record<string, unknown> = {}): Record<string, string> {
  const server = new CfgServer(config(auth));
  server.addService(CryptoServiceService, new cls() as never);
  const methods = server.services[0]!.methods;
  return Object.fromEntries(keys.map((k) => [k, methods.find((m) => m.key === k)!.access.label]));
}

test('declarations resolve at registration: access first, publicMethods as shorthand, the rest by requireAuth', () => {
  class Declared extends BaseService {
    static override access = {
      getCoin: 'public',
      transfer: 'user',
      createCoin: { permission: 'crypto.add_coin', orStaff: true },
      deleteCoin: { permission: 'crypto.delete_coin' },
      updateCoinPrice: 'staff',
    } as const;
    static override publicMethods = ['listCoins'];
  }
  const keys = ['getCoin', 'transfer', 'createCoin', 'deleteCoin', 'updateCoinPrice', 'listCoins', 'deposit'];
  assert.deepEqual(labels(Declared, keys), {
    getCoin: 'public',
    transfer: 'user',
    createCoin: 'staff or crypto.add_coin',
    deleteCoin: 'crypto.delete_coin',
    updateCoinPrice: 'staff',
    listCoins: 'public',
    deposit: 'undeclared',
  });
  assert.equal(labels(Declared, ['deposit'], { requireAuth: true }).deposit, 'user', 'requireAuth on: an undeclared method needs a user');
  assert.equal(
    labels(Declared, ['getMarketStats'], { publicMethods: ['/crypto.CryptoService/GetMarketStats'] }).getMarketStats,
    'public',
    'grpc.auth.publicMethods',
  );

  class Locked extends AuthRequiredService {
    static override access = { deleteCoin: 'staff' } as const;
  }
  assert.deepEqual(labels(Locked, ['deleteCoin', 'getCoin']), { deleteCoin: 'staff', getCoin: 'user' }, 'requireAuth is the floor');
});

test('a bad declaration stops registration, naming the class, the method and what is wrong', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, RegExp]> = [
    ['unknown method', { access: { getCoins: 'public' } }, {}, /^Bad\.access names "getCoins", which is not a method of this service\.$/],
    ['unknown word', { access: { getCoin: 'admin' } }, {}, /^Bad\.access\.getCoin is "admin"; it must be "public", "user", "staff"/],
    [
      'malformed permission',
      { access: { deleteCoin: { permission: 'delete_coin' } } },
      {},
      /^Bad\.access\.deleteCoin names permission "delete_coin"; a permission is "app\.codename"\.$/,
    ],
    ['extra field', { access: { deleteCoin: { permission: 'crypto.delete_coin', orstaff: true } } }, {}, /unknown field "orstaff"/],
    [
      'declared twice',
      { access: { getCoin: 'user' }, publicMethods: ['getCoin'] },
      {},
      /^Bad\.getCoin is in publicMethods but its access is "user"\.$/,
    ],
    [
      'public on requireAuth',
      { access: { getCoin: 'public' }, requireAuth: true },
      {},
      /^Bad\.access\.getCoin is "public", but Bad requires authentication on every method/,
    ],
    [
      'opened by config',
      { access: { deleteCoin: 'staff' } },
      { publicMethods: ['/crypto.CryptoService/DeleteCoin'] },
      /^grpc\.auth\.publicMethods lists \/crypto\.CryptoService\/DeleteCoin, but Bad declares its access "staff"\.$/,
    ],
  ];
  for (const [name, statics, auth, message] of cases) {
    const Bad = Object.assign(class Bad extends BaseService {}, statics);
    const server = new CfgServer(config(auth));
    assert.throws(
      () => server.addService(CryptoServiceService, new Bad() as never),
      (err: Error & { code?: string }) => {
        assert.match(err.message, message, name);
        assert.equal(err.code, name === 'opened by config' ? 'E_CONFIG_INVALID' : 'E_ACCESS', name);
        return true;
      },
    );
    assert.equal(server.services.length, 0, `${name}: nothing registered`);
  }
});

test('checkAccess: anonymous, user, staff, permission holder and superuser against each kind', () => {
  const user = (name: string, flags: Partial<AuthUser> = {}): AuthUser => ({
    id: 1,
    username: name,
    email: '',
    isActive: true,
    isStaff: false,
    isSuperuser: false,
    permissions: new Set(),
    ...flags,
  });
  const callers: Array<[string, AuthUser | null]> = [
    ['anonymous', null],
    ['user', user('u')],
    ['staff', user('s', { isStaff: true })],
    ['holder', user('h', { permissions: new Set(['crypto.add_coin']) })],
    ['superuser', user('root', { isSuperuser: true, isStaff: true })],
  ];
  const kinds: Array<[unknown, string[]]> = [
    ['public', ['ok', 'ok', 'ok', 'ok', 'ok']],
    ['user', ['UNAUTHENTICATED', 'ok', 'ok', 'ok', 'ok']],
    ['staff', ['UNAUTHENTICATED', 'PERMISSION_DENIED', 'ok', 'PERMISSION_DENIED', 'ok']],
    [{ permission: 'crypto.add_coin' }, ['UNAUTHENTICATED', 'PERMISSION_DENIED', 'PERMISSION_DENIED', 'ok', 'ok']],
    [{ permission: 'crypto.add_coin', orStaff: true }, ['UNAUTHENTICATED', 'PERMISSION_DENIED', 'ok', 'ok', 'ok']],
  ];
  for (const [declared, expected] of kinds) {
    const access = resolveAccess(declared) as MethodAccess;
    const got = callers.map(([, caller]) => {
      try {
        checkAccess(access, caller);
        return 'ok';
      } catch (err) {
        return (err as { code: number }).code === 16
          ? 'UNAUTHENTICATED'
          : (err as { code: number }).code === 7
            ? 'PERMISSION_DENIED'
            : String(err);
      }
    });
    assert.deepEqual(got, expected, access.label);
  }
});
