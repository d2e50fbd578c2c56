// Every BaseService helper through a real server and a real client: the status code and message
// each abort* sends, on a unary call and ending a streaming call after it has sent a message;
// requireUser/requireStaff/requireSuperuser/requirePermission for each kind of caller; request
// and response metadata (a key set twice arrives twice); getPeer's "ipv4:host:port" form.
// The caller is set under the auth interceptor's key (CALLER) by a small interceptor (auth itself
// is tested in auth.test.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Metadata, credentials, makeGenericClientConstructor, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { CALLER } from '../src/auth/caller.ts';
import type { AuthUser } from '../src/auth/types.ts';
import { configureLogging } from '../src/log/logger.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import type { CallContext } from '../src/call/context.ts';
import { BaseService } from '../src/services/base-service.ts';
import type { ServiceImplementation } from '../src/services/types.ts';
import type { AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });
const user = (name: string, over: Partial<AuthUser> = {}): AuthUser => ({
  id: name.length,
  username: name,
  email: '',
  isActive: true,
  isStaff: false,
  isSuperuser: false,
  permissions: new Set<string>(),
  ...over,
});
const USERS: Record<string, AuthUser> = {
  plain: user('plain'),
  staff: user('staff', { isStaff: true }),
  super: user('super', { isSuperuser: true }),
  perm: user('perm', { permissions: new Set(['crypto.delete_coin']) }),
  inactive: user('inactive', { isActive: false, isStaff: true, permissions: new Set(['crypto.delete_coin']) }),
};

/** Runs the helper named by the request on a unary call, or after one message of a stream. */
class Helpers extends BaseService {
  run(what: string, ctx: CallContext): string {
    switch (what) {
      case 'requireUser':
        return this.requireUser(ctx).username;
      case 'requireStaff':
        return this.requireStaff(ctx).username;
      case 'requireSuperuser':
        return this.requireSuperuser(ctx).username;
      case 'requirePermission':
        return this.requirePermission(ctx, 'crypto.delete_coin').username;
      case 'checks':
        return [
          this.checkStaff(ctx),
          this.checkSuperuser(ctx),
          this.checkPermission(ctx, 'crypto.delete_coin'),
          this.getUser(ctx)?.username ?? null,
        ].join(',');
      case 'abortInvalidArgument':
        return this.abortInvalidArgument(ctx, 'Symbol is required');
      case 'abortNotFound':
        return this.abortNotFound(ctx, 'Coin XYZ not found');
      case 'abortPermissionDenied':
        return this.abortPermissionDenied(ctx, 'no');
      case 'abortUnauthenticated':
        return this.abortUnauthenticated(ctx, 'who?');
      case 'abortUnimplemented':
        return this.abortUnimplemented(ctx, 'later');
      case 'abortInternal':
        return this.abortInternal(ctx, 'Internal error: boom');
      case 'abort':
        return this.abort(ctx, status.RESOURCE_EXHAUSTED, 'slow down');
      case 'metadata':
        this.setMetadata(ctx, 'x-out', 'one');
        this.setMetadata(ctx, 'x-out', 'two');
        return `${this.getMetadata(ctx, 'x-in')}|${this.getMetadata(ctx, 'x-missing') ?? 'none'}`;
      case 'peer':
        return this.getPeer(ctx);
      default:
        return 'ok';
    }
  }
  async sayHello(request: { name: string }, ctx: CallContext) {
    return { message: this.run(request.name, ctx), pid: 0 };
  }
  /** Server streaming: the helper is named by the x-run header; value 1 is sent before it runs. */
  async *countUp(_request: { n: number }, ctx: CallContext) {
    yield { value: 1 };
    this.run(String(ctx.metadata.get('x-run')[0] ?? ''), ctx);
    yield { value: 2 };
  }
  async *chat(requests: AsyncIterable<{ name: string }>, ctx: CallContext) {
    for await (const r of requests) {
      yield { message: 'first', pid: 0 };
      yield { message: this.run(r.name, ctx), pid: 0 };
    }
  }
}

let project: Project;
let server: CfgServer;
let client: Client & Record<string, (...a: unknown[]) => unknown>;

before(async () => {
  project = await makeProject({ apps: [] });
  const Greeter = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  server = new CfgServer(await inProcessConfig(project, []), {
    interceptors: [
      {
        name: 'test-user',
        intercept(ctx, next) {
          const user = USERS[String(ctx.metadata.get('x-user')[0] ?? '')];
          ctx.values.set(CALLER, user ? { user, auth: { kind: 'jwt' } } : null);
          return next(ctx);
        },
      },
    ],
  });
  server.addService(Greeter, new Helpers() as unknown as ServiceImplementation<AnyDefinition>);
  const port = await server.listen('127.0.0.1', 0);
  client = new (makeGenericClientConstructor(Greeter, 'G'))(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as typeof client;
});
after(async () => {
  client?.close();
  server?.forceShutdown();
  await project?.remove();
});

function md(as?: string, extra: Record<string, string> = {}): Metadata {
  const m = new Metadata();
  if (as) m.set('x-user', as);
  for (const [k, v] of Object.entries(extra)) m.set(k, v);
  return m;
}
function unary(
  what: string,
  as?: string,
  extra?: Record<string, string>,
): Promise<{ message?: string; err?: ServiceError; headers?: Metadata }> {
  return new Promise((resolve) => {
    let headers: Metadata | undefined;
    const call = client.sayHello!({ name: what }, md(as, extra), (err: ServiceError | null, r: { message: string }) =>
      resolve(err ? { err } : { message: r.message, headers }),
    ) as NodeJS.EventEmitter;
    call.on('metadata', (m: Metadata) => (headers = m));
  });
}
function serverStream(what: string, as?: string): Promise<{ values: number[]; err?: ServiceError }> {
  return new Promise((resolve) => {
    const values: number[] = [];
    const call = client.countUp!({ n: 0 }, md(as, { 'x-run': what })) as NodeJS.EventEmitter;
    call.on('data', (m: { value: number }) => values.push(m.value));
    call.on('error', (err: ServiceError) => resolve({ values, err }));
    call.on('end', () => resolve({ values }));
  });
}
function stream(what: string, as?: string): Promise<{ messages: string[]; err?: ServiceError }> {
  return new Promise((resolve) => {
    const messages: string[] = [];
    const call = client.chat!(md(as)) as NodeJS.EventEmitter & { write(m: unknown): void; end(): void };
    call.on('data', (m: { message: string }) => messages.push(m.message));
    call.on('error', (err: ServiceError) => resolve({ messages, err }));
    call.on('end', () => resolve({ messages }));
    call.write({ name: what });
    call.end();
  });
}

const ABORTS: Array<[string, number, string]> = [
  ['abortInvalidArgument', status.INVALID_ARGUMENT, 'Symbol is required'],
  ['abortNotFound', status.NOT_FOUND, 'Coin XYZ not found'],
  ['abortPermissionDenied', status.PERMISSION_DENIED, 'no'],
  ['abortUnauthenticated', status.UNAUTHENTICATED, 'who?'],
  ['abortUnimplemented', status.UNIMPLEMENTED, 'later'],
  ['abortInternal', status.INTERNAL, 'Internal error: boom'],
  ['abort', status.RESOURCE_EXHAUSTED, 'slow down'],
];

test('each abort helper ends a unary call, a server stream and a bidi stream with its status and message', async () => {
  for (const [what, code, message] of ABORTS) {
    const { err } = await unary(what);
    assert.deepEqual([err?.code, err?.details], [code, message], what);
    const ss = await serverStream(what);
    assert.deepEqual(ss.values, [1], `${what}: the message before the abort arrived, none after`);
    assert.deepEqual([ss.err?.code, ss.err?.details], [code, message], `${what} on a server stream`);
    const s = await stream(what);
    assert.deepEqual(s.messages, ['first'], `${what}: the message before the abort arrived`);
    assert.deepEqual([s.err?.code, s.err?.details], [code, message], `${what} on a bidi stream`);
  }
});

test('require* helpers: who passes and what the others get', async () => {
  const expect: Array<[string, string | undefined, number | string]> = [
    ['requireUser', undefined, status.UNAUTHENTICATED],
    ['requireUser', 'plain', 'plain'],
    ['requireStaff', 'plain', status.PERMISSION_DENIED],
    ['requireStaff', 'staff', 'staff'],
    ['requireStaff', 'super', 'super'],
    ['requireStaff', 'inactive', status.UNAUTHENTICATED],
    ['requireUser', 'inactive', status.UNAUTHENTICATED],
    ['requireSuperuser', 'staff', status.PERMISSION_DENIED],
    ['requireSuperuser', 'super', 'super'],
    ['requirePermission', 'plain', status.PERMISSION_DENIED],
    ['requirePermission', 'perm', 'perm'],
    ['requirePermission', 'super', 'super'],
    ['requirePermission', 'inactive', status.UNAUTHENTICATED],
    ['requirePermission', undefined, status.UNAUTHENTICATED],
  ];
  for (const [what, as, want] of expect) {
    const r = await unary(what, as);
    if (typeof want === 'number') assert.equal(r.err?.code, want, `${what} as ${as}`);
    else assert.equal(r.message, want, `${what} as ${as}`);
  }
  assert.equal((await unary('requireStaff', 'plain')).err?.details, 'Staff access required');
  assert.equal((await unary('requirePermission', 'plain')).err?.details, 'Permission crypto.delete_coin required');
  assert.equal((await unary('requireUser')).err?.details, 'Authentication required');
  // Streaming calls end with the same statuses, after the message sent before the check.
  for (const [what, as, want] of expect) {
    if (typeof want !== 'number') continue;
    const ss = await serverStream(what, as);
    assert.deepEqual([ss.values, ss.err?.code], [[1], want], `${what} as ${as} on a server stream`);
    const s = await stream(what, as);
    assert.deepEqual([s.messages, s.err?.code], [['first'], want], `${what} as ${as} on a bidi stream`);
  }
  assert.deepEqual((await serverStream('requireStaff', 'staff')).values, [1, 2], 'a passing check lets the stream finish');
  assert.equal((await unary('requireUser', 'inactive')).err?.details, 'User account is disabled');
  assert.equal((await unary('checks', 'inactive')).message, 'false,false,false,', 'an inactive user is no user');
  assert.equal((await unary('checks', 'super')).message, 'true,true,true,super');
  assert.equal((await unary('checks')).message, 'false,false,false,');
});

test('metadata both ways: a request header is read; a response key set twice arrives twice', async () => {
  const r = await unary('metadata', undefined, { 'x-in': 'hello' });
  assert.equal(r.message, 'hello|none');
  // Both values travel as two header entries; grpc-js's client joins repeated entries with ", ".
  assert.deepEqual(r.headers?.get('x-out'), ['one, two']);
});

test('setMetadata after the first streamed message travels as trailers, both values kept', async () => {
  const trailers = await new Promise<Metadata>((resolve, reject) => {
    const call = client.countUp!({ n: 0 }, md(undefined, { 'x-run': 'metadata', 'x-in': 'x' })) as NodeJS.EventEmitter;
    let headers: Metadata | undefined;
    call.on('metadata', (m: Metadata) => (headers = m));
    call.on('data', () => {});
    call.on('error', reject);
    call.on('status', (s: { metadata: Metadata }) => {
      if (headers?.get('x-out').length) reject(new Error('x-out came as a header'));
      resolve(s.metadata);
    });
  });
  assert.deepEqual(trailers.get('x-out'), ['one, two']);
});

test('getPeer: "ipv4:127.0.0.1:<port>"', async () => {
  const r = await unary('peer');
  assert.match(String(r.message), /^ipv4:127\.0\.0\.1:\d+$/);
});

test('getPeer over IPv6: "ipv6:[::1]:<port>"', async (t) => {
  const Greeter = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  const v6 = new CfgServer(await inProcessConfig(project, []));
  v6.addService(Greeter, new Helpers() as unknown as ServiceImplementation<AnyDefinition>);
  let port: number;
  try {
    port = await v6.listen('::1', 0);
  } catch {
    v6.forceShutdown();
    t.skip('this machine cannot bind [::1]');
    return;
  }
  const c6 = new (makeGenericClientConstructor(Greeter, 'G'))(`[::1]:${port}`, credentials.createInsecure()) as unknown as typeof client;
  try {
    const message = await new Promise<string>((resolve, reject) =>
      c6.sayHello!({ name: 'peer' }, (err: ServiceError | null, r: { message: string }) => (err ? reject(err) : resolve(r.message))),
    );
    assert.match(message, /^ipv6:\[::1\]:\d+$/);
  } finally {
    c6.close();
    v6.forceShutdown();
  }
});

test('getPeer formats what grpc-js reports: IPv4, IPv4-mapped IPv6, and IPv6', async () => {
  const { formatPeer } = await import('../src/transports/grpc/call-context.ts');
  assert.equal(formatPeer('127.0.0.1:5000'), 'ipv4:127.0.0.1:5000');
  assert.equal(formatPeer('::ffff:10.0.0.7:443'), 'ipv4:10.0.0.7:443');
  assert.equal(formatPeer('::1:5000'), 'ipv6:[::1]:5000');
  assert.equal(formatPeer('2001:db8::2:61000'), 'ipv6:[2001:db8::2]:61000');
});
