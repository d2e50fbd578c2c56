// Who may call what, on a real server with real users in SQLite: public and private methods
// (unary and streaming) under requireAuth off and on; class publicMethods and config
// publicMethods; AuthRequiredService (every method needs a user, and cfg refuses to serve it with
// auth disabled); ReadOnlyService (reads pass, every write is refused before it reaches the
// database); staff, superuser and permission checks (direct, through a group, inactive user).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { configureLogging } from '../src/log/logger.ts';
import type { RunningServer } from '../src/server/start.ts';
import { authBed, RawClient, type AuthBed } from './fixtures/auth/env.ts';

configureLogging({ level: 'silent' });
let bed: AuthBed;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

before(async () => {
  bed = await authBed([
    { username: 'alice' },
    { username: 'staffer', staff: true },
    { username: 'root', superuser: true },
    { username: 'deleter', perm: ['crypto.delete_coin'] },
    { username: 'grouped', group: ['editors'] },
    { username: 'ghost', inactive: true, staff: true, perm: ['crypto.delete_coin'] },
  ]);
  // Grant crypto.change_coin to the group, as Django's admin would.
  bed.sql(`INSERT INTO auth_permission (app, codename, name) VALUES ('crypto', 'change_coin', 'Can change coin')`);
  bed.sql(`INSERT INTO auth_group_permissions ("groupId", "permissionId")
    SELECT g.id, p.id FROM auth_group g, auth_permission p WHERE g.name = 'editors' AND p.codename = 'change_coin'`);
});
after(async () => {
  await bed?.close();
});

function clients(server: RunningServer) {
  const address = `127.0.0.1:${server.port}`;
  const { greeter, farewell, ping } = bed.definitions;
  return { greeter: new RawClient(greeter, address), farewell: new RawClient(farewell, address), ping: new RawClient(ping, address) };
}

describe('requireAuth false (the default)', () => {
  let server: RunningServer;
  let c: ReturnType<typeof clients>;
  before(async () => {
    server = await bed.start();
    c = clients(server);
  });
  after(() => {
    for (const client of Object.values(c ?? {})) client.close();
  });

  test('without a token every method runs anonymously, public or not, unary or streaming', async () => {
    assert.equal((await c.greeter.unary('sayHello', { name: 'whoami' })).value?.message, 'anonymous');
    assert.equal((await c.greeter.unary('fail', {})).value?.message, 'anonymous', 'a private method that does not call requireUser');
    assert.deepEqual((await c.greeter.stream('countUp', { n: 1 })).values, [{ value: 1 }]);
    assert.deepEqual((await c.greeter.stream('chat', { name: 'hi' }, {}, true)).values, [{ message: 'hi:anonymous', pid: 0 }]);
  });

  test('a method that calls requireUser is UNAUTHENTICATED without a token, unary and streaming', async () => {
    const unary = await c.greeter.unary('sayHello', { name: 'require' });
    assert.deepEqual([unary.err?.code, unary.err?.details], [status.UNAUTHENTICATED, 'Authentication required']);
    const stream = await c.greeter.stream('countUp', { n: 2 });
    assert.deepEqual(stream.values, [{ value: 1 }], 'the message before requireUser arrived');
    assert.deepEqual([stream.err?.code, stream.err?.details], [status.UNAUTHENTICATED, 'Authentication required']);
  });

  test('with a token the user reaches every kind of method', async () => {
    const md = bearer(bed.token(bed.ids.alice!));
    assert.equal((await c.greeter.unary('sayHello', { name: 'require' }, md)).value?.message, 'alice');
    assert.equal((await c.greeter.unary('fail', {}, md)).value?.message, 'alice');
    assert.deepEqual((await c.greeter.stream('countUp', { n: 2 }, md)).values, [{ value: 1 }, { value: bed.ids.alice }]);
    assert.deepEqual((await c.greeter.stream('chat', { name: 'hi' }, md, true)).values, [{ message: 'hi:alice', pid: 0 }]);
  });

  test('a bad token is refused even on a public method (never silently anonymous)', async () => {
    const md = bearer(bed.token(bed.ids.alice!, {}, 'not-the-secret'));
    const r = await c.greeter.unary('sayHello', { name: 'whoami' }, md);
    assert.deepEqual([r.err?.code, r.err?.details], [status.UNAUTHENTICATED, 'Invalid token signature']);
    const s = await c.greeter.stream('countUp', { n: 1 }, md);
    assert.deepEqual([s.values?.length, s.err?.code], [0, status.UNAUTHENTICATED]);
  });

  test('AuthRequiredService: every method needs a user, its publicMethods notwithstanding', async () => {
    const anon = await c.farewell.unary('sayGoodbye', { name: 'x' });
    assert.deepEqual([anon.err?.code, anon.err?.details], [status.UNAUTHENTICATED, 'Authentication required']);
    assert.equal((await c.farewell.unary('sayGoodbye', { name: 'x' }, bearer(bed.token(bed.ids.alice!)))).value?.message, 'bye alice x');
  });

  test('staff, superuser and permission checks: direct, through a group, superuser; inactive users are refused', async () => {
    const as = async (user: string, what: string) => {
      const r = await c.greeter.unary('sayHello', { name: what }, bearer(bed.token(bed.ids[user]!)));
      return r.err ? `${status[r.err.code]}: ${r.err.details}` : r.value?.message;
    };
    assert.equal(await as('alice', 'staff'), 'PERMISSION_DENIED: Staff access required');
    assert.equal(await as('staffer', 'staff'), 'staffer');
    assert.equal(await as('root', 'staff'), 'root', 'a superuser is staff');
    assert.equal(await as('staffer', 'superuser'), 'PERMISSION_DENIED: Superuser access required');
    assert.equal(await as('root', 'superuser'), 'root');
    assert.equal(await as('alice', 'perm:crypto.delete_coin'), 'PERMISSION_DENIED: Permission crypto.delete_coin required');
    assert.equal(await as('deleter', 'perm:crypto.delete_coin'), 'deleter', 'granted directly');
    assert.equal(await as('deleter', 'perm:crypto.change_coin'), 'PERMISSION_DENIED: Permission crypto.change_coin required');
    assert.equal(await as('grouped', 'perm:crypto.change_coin'), 'grouped', 'granted through a group');
    assert.equal(await as('root', 'perm:anything.at_all'), 'root', 'a superuser has every permission');
    assert.equal(await as('ghost', 'whoami'), 'UNAUTHENTICATED: User account is disabled', 'inactive: not authenticated at all');
  });

  test('ReadOnlyService: reads pass; every kind of write is refused before it reaches the database', async () => {
    const before = bed.sql<{ n: number }>('SELECT COUNT(*) AS n FROM auth_user')[0]!.n;
    assert.equal((await c.ping.unary('ping', {})).value?.from, `users=${before}`);
    for (const write of ['create', 'update', 'delete', 'raw', 'tx']) {
      const r = await c.ping.unary('ping', {}, { 'x-write': write });
      assert.deepEqual([r.err?.code, r.err?.details], [status.INTERNAL, 'Internal server error'], write);
    }
    assert.equal(bed.sql<{ n: number }>('SELECT COUNT(*) AS n FROM auth_user')[0]!.n, before);
    assert.equal(bed.sql<{ n: number }>('SELECT COUNT(*) AS n FROM auth_user WHERE isStaff = 1')[0]!.n, 3, 'staffer, root and ghost only');
    assert.deepEqual(bed.sql(`SELECT name FROM auth_group WHERE name LIKE 'written%'`), []);
  });
});

describe('requireAuth true', () => {
  let server: RunningServer;
  let c: ReturnType<typeof clients>;
  before(async () => {
    server = await bed.start(
      { requireAuth: true, publicMethods: ['/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Watch', '/fixture.Greeter/Hold'] },
      { server: { enableHealthCheck: true } },
    );
    c = clients(server);
  });
  after(() => {
    for (const client of Object.values(c ?? {})) client.close();
  });

  test('public methods (class publicMethods, config publicMethods) need no token; the others do', async () => {
    assert.equal((await c.greeter.unary('sayHello', { name: 'whoami' })).value?.message, 'anonymous', 'static publicMethods');
    assert.deepEqual((await c.greeter.stream('countUp', { n: 1 })).values, [{ value: 1 }], 'a public stream');
    assert.equal((await c.greeter.unary('hold', { dir: '', key: '' })).value?.message, 'anonymous', 'auth.publicMethods (full name)');
    for (const r of [
      await c.greeter.unary('fail', {}),
      await c.greeter.stream('chat', { name: 'x' }, {}, true),
      await c.ping.unary('ping', {}),
    ]) {
      assert.deepEqual([r.err?.code, r.err?.details], [status.UNAUTHENTICATED, 'Authentication required']);
    }
    const md = bearer(bed.token(bed.ids.alice!));
    assert.equal((await c.greeter.unary('fail', {}, md)).value?.message, 'alice');
    assert.deepEqual((await c.greeter.stream('chat', { name: 'x' }, md, true)).values, [{ message: 'x:alice', pid: 0 }]);
    assert.equal((await c.greeter.unary('sayHello', { name: 'whoami' }, md)).value?.message, 'alice', 'a token on a public method is used');
  });

  test('health is outside the chain: it answers without a token', async () => {
    // HealthCheckRequest {} is empty on the wire; HealthCheckResponse { status: SERVING } is 08 01.
    const bytes = (b: Buffer) => b;
    const check = {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    };
    const client = new RawClient({ check }, `127.0.0.1:${server.port}`);
    try {
      const r = await client.unary('check', Buffer.alloc(0));
      assert.equal(r.err, undefined);
      assert.deepEqual(r.value, Buffer.from([0x08, 0x01]));
    } finally {
      client.close();
    }
  });
});

test('a class that requires auth is not served when auth is disabled', async () => {
  await assert.rejects(bed.start({ enabled: false }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'E_CONFIG_INVALID');
    assert.match(err.message, /Locked requires authentication .* grpc\.auth\.enabled is false/);
    return true;
  });
});
