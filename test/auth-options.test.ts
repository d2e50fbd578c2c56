// Each grpc.auth option's effect on a real server with real users: tokenHeader and tokenPrefix;
// RS256 and ES256 with a public key (PEM text or a path), the other family refused; jwtVerifyExp
// and jwtLeeway; tokens without exp and maxTokenLifetimeSeconds; token_type and the sub fallback; the project secret generated into
// var/secret_key; start-up errors for unusable keys; the user cache revoked by upsertUser.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import jwt from 'jsonwebtoken';
import { upsertUser } from '../src/auth/manage.ts';
import { mintAccessToken } from '../src/auth/tokens.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { createDb } from '../src/db/client.ts';
import { parseDatabaseUrl } from '../src/db/url.ts';
import { configureLogging } from '../src/log/logger.ts';
import { authBed, RawClient, SECRET, type AuthBed } from './fixtures/auth/env.ts';

configureLogging({ level: 'silent' });
delete process.env.CFG_SECRET_KEY; // the project secret must come from config or var/secret_key here
let bed: AuthBed;
const now = () => Math.floor(Date.now() / 1000);

before(async () => {
  bed = await authBed([{ username: 'alice' }, { username: 'bob' }]);
});
after(async () => {
  await bed?.close();
});

/** Starts a server with `auth`, calls the public whoami method with `metadata`, stops nothing (bed.close does). */
async function whoami(auth: Record<string, unknown>, ...calls: Array<Record<string, string>>): Promise<string[]> {
  const server = await bed.start(auth);
  const client = new RawClient(bed.definitions.greeter, `127.0.0.1:${server.port}`);
  try {
    const out: string[] = [];
    for (const md of calls) {
      const r = await client.unary('sayHello', { name: 'whoami' }, md);
      out.push(r.err ? `${status[r.err.code]}: ${r.err.details}` : String(r.value?.message));
    }
    return out;
  } finally {
    client.close();
  }
}

test('tokenHeader and tokenPrefix: a custom header and scheme; the prefix is compared without case', async () => {
  const token = bed.token(bed.ids.alice!);
  assert.deepEqual(
    await whoami(
      { tokenHeader: 'x-api-token', tokenPrefix: 'JWT' },
      { 'x-api-token': `JWT ${token}` },
      { 'x-api-token': `jwt ${token}` },
      { 'x-api-token': `Bearer ${token}` },
      { authorization: `JWT ${token}` },
    ),
    ['alice', 'alice', 'UNAUTHENTICATED: The x-api-token header must be "JWT <token>"', 'anonymous'],
  );
  assert.deepEqual(await whoami({ tokenPrefix: '' }, { authorization: token }, { authorization: `Bearer ${token}` }), [
    'alice',
    'UNAUTHENTICATED: Malformed token',
  ]);
});

describe('asymmetric keys', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = (k: typeof rsa.publicKey) => k.export({ type: 'spki', format: 'pem' }).toString();
  const claims = () => ({ token_type: 'access', user_id: bed.ids.alice, exp: now() + 60, jti: 'x' });

  test('RS256 with a public key as PEM text: RS256 tokens pass; HS256 (even keyed with the public key) and ES256 do not', async () => {
    const publicPem = pem(rsa.publicKey);
    assert.deepEqual(
      await whoami(
        { jwtAlgorithm: 'RS256', jwtPublicKey: publicPem },
        { authorization: `Bearer ${jwt.sign(claims(), rsa.privateKey, { algorithm: 'RS256' })}` },
        { authorization: `Bearer ${jwt.sign(claims(), publicPem, { algorithm: 'HS256' })}` },
        { authorization: `Bearer ${jwt.sign(claims(), ec.privateKey, { algorithm: 'ES256' })}` },
        {
          authorization: `Bearer ${jwt.sign(claims(), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, { algorithm: 'RS256' })}`,
        },
      ),
      [
        'alice',
        'UNAUTHENTICATED: Token algorithm HS256 is not accepted (this server uses RS256)',
        'UNAUTHENTICATED: Token algorithm ES256 is not accepted (this server uses RS256)',
        'UNAUTHENTICATED: Invalid token signature',
      ],
    );
  });

  test('ES256 with a public key file; cfg token signs with the private key', async () => {
    const file = bed.project.path('var', 'jwt-public.pem');
    writeFileSync(file, pem(ec.publicKey));
    const privatePem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const config = resolveConfig(
      { grpc: { auth: { jwtAlgorithm: 'ES256', jwtPrivateKey: privatePem } } },
      { root: bed.project.root, env: {} },
    );
    const minted = mintAccessToken(config, bed.ids.bob!, 60);
    assert.equal(jwt.decode(minted, { complete: true })?.header.alg, 'ES256');
    assert.deepEqual(
      await whoami(
        { jwtAlgorithm: 'ES256', jwtPublicKey: file },
        { authorization: `Bearer ${minted}` },
        { authorization: `Bearer ${jwt.sign(claims(), rsa.privateKey, { algorithm: 'RS256' })}` },
      ),
      ['bob', 'UNAUTHENTICATED: Token algorithm RS256 is not accepted (this server uses ES256)'],
    );
  });

  test('an unusable key stops the server at start-up with a message naming the field', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ jwtAlgorithm: 'RS256' }, /jwtPublicKey is not set/],
      [{ jwtAlgorithm: 'RS256', jwtPublicKey: '/nonexistent/key.pem' }, /jwtPublicKey: cannot read \/nonexistent\/key\.pem/],
      [
        { jwtAlgorithm: 'RS256', jwtPublicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n' },
        /jwtPublicKey is not a valid PEM key/,
      ],
      [
        { jwtAlgorithm: 'RS256', jwtPublicKey: pem(ec.publicKey) },
        /jwtPublicKey is a ec prime256v1 key, but jwtAlgorithm RS256 needs an RSA key/,
      ],
      [{ jwtAlgorithm: 'ES384', jwtPublicKey: pem(ec.publicKey) }, /needs an EC secp384r1 key/],
    ];
    for (const [auth, message] of cases) {
      await assert.rejects(bed.start(auth), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'E_CONFIG_INVALID');
        assert.match(err.message, message);
        return true;
      });
    }
  });
});

test('jwtVerifyExp false accepts an expired token; jwtLeeway accepts one that expired within the leeway', async () => {
  const expired = { authorization: `Bearer ${bed.token(bed.ids.alice!, { exp: now() - 30 })}` };
  assert.deepEqual(await whoami({}, expired), ['UNAUTHENTICATED: Token expired']);
  assert.deepEqual(await whoami({ jwtVerifyExp: false }, expired), ['alice']);
  assert.deepEqual(await whoami({ jwtLeeway: 120 }, expired), ['alice']);
  const early = { authorization: `Bearer ${bed.token(bed.ids.alice!, { nbf: now() + 30 })}` };
  assert.deepEqual(await whoami({ jwtLeeway: 120 }, early), ['alice']);
});

test('a token without exp is refused unless grpc.auth.allowTokensWithoutExp', async () => {
  const forever = jwt.sign({ token_type: 'access', user_id: bed.ids.alice, iat: now(), jti: 'forever' }, SECRET, { algorithm: 'HS256' });
  const md = { authorization: `Bearer ${forever}` };
  assert.deepEqual(await whoami({}, md), ['UNAUTHENTICATED: Token has no exp claim; this server refuses tokens that never expire']);
  assert.deepEqual(await whoami({ allowTokensWithoutExp: true }, md), ['alice']);
  assert.deepEqual(await whoami({ jwtVerifyExp: false }, md), ['alice'], 'jwtVerifyExp false ignores exp altogether');
});

test('maxTokenLifetimeSeconds: a longer-lived token is refused, measured from iat (from now when iat is missing or in the future)', async () => {
  const t = now();
  const token = (claims: Record<string, unknown>) => ({
    authorization: `Bearer ${jwt.sign({ token_type: 'access', user_id: bed.ids.alice, jti: 'j', ...claims }, SECRET, { algorithm: 'HS256', noTimestamp: !('iat' in claims) })}`,
  }); // noTimestamp: no iat at all
  const answers = await whoami(
    { maxTokenLifetimeSeconds: 3600 },
    token({ iat: t, exp: t + 3600 }),
    token({ iat: t - 3000, exp: t + 601 }),
    token({ iat: t, exp: t + 86_400 }),
    token({ exp: t + 7200 }),
    token({ iat: t + 86_400, exp: t + 86_400 + 60 }),
  );
  // Measured from iat: exact. Measured from now (no iat, or one in the future): the seconds that
  // passed since the tokens were made (a server start on a busy machine) come off the lifetime.
  const elapsed = now() - t;
  assert.deepEqual(answers.slice(0, 3), [
    'alice',
    'UNAUTHENTICATED: Token lifetime of 3601 s is longer than this server accepts (3600 s)',
    'UNAUTHENTICATED: Token lifetime of 86400 s is longer than this server accepts (3600 s)',
  ]);
  for (const [answer, lifetime] of [
    [answers[3], 7200],
    [answers[4], 86_460],
  ] as const) {
    const seconds = Number(
      /^UNAUTHENTICATED: Token lifetime of (\d+) s is longer than this server accepts \(3600 s\)$/.exec(answer ?? '')?.[1],
    );
    assert.ok(
      seconds <= lifetime && seconds >= lifetime - elapsed - 1,
      `${answer}: expected ${lifetime} s less the ${elapsed} s since the token was made`,
    );
  }
  assert.deepEqual(
    await whoami({}, token({ iat: t, exp: t + 7 * 86_400 })),
    ['UNAUTHENTICATED: Token lifetime of 604800 s is longer than this server accepts (86400 s)'],
    'the default is one day',
  );
});

test('claims: sub stands in for user_id; token_type must be "access"', async () => {
  const server = await bed.start();
  const client = new RawClient(bed.definitions.greeter, `127.0.0.1:${server.port}`);
  const call = async (claims: Record<string, unknown>) => {
    const iat = now();
    const token = jwt.sign({ exp: iat + 60, iat, jti: 'j', ...claims }, SECRET, { algorithm: 'HS256' });
    const r = await client.unary('sayHello', { name: 'whoami' }, { authorization: `Bearer ${token}` });
    return r.err ? `${status[r.err.code]}: ${r.err.details}` : String(r.value?.message);
  };
  try {
    assert.equal(await call({ token_type: 'access', sub: String(bed.ids.bob) }), 'bob');
    assert.equal(await call({ token_type: 'access', user_id: bed.ids.alice, sub: String(bed.ids.bob) }), 'alice', 'user_id wins');
    assert.equal(
      await call({ user_id: bed.ids.alice }),
      'UNAUTHENTICATED: Token has no token_type claim (an access token has token_type "access")',
    );
    assert.equal(
      await call({ token_type: 'refresh', user_id: bed.ids.alice }),
      'UNAUTHENTICATED: Token type must be "access", not "refresh"',
    );
    assert.equal(await call({ token_type: 'access', user_id: 'alice' }), 'UNAUTHENTICATED: Token has no valid user_id claim');
  } finally {
    client.close();
  }
});

test('no secret configured: one is generated into var/secret_key (0600), shared by cfg token and the server', async () => {
  const config = resolveConfig({}, { root: bed.project.root, env: {} });
  const token = mintAccessToken(config, bed.ids.alice!, 60); // generates var/secret_key
  const file = bed.project.path('var', 'secret_key');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(
    await whoami({ jwtSecretKey: null }, { authorization: `Bearer ${token}` }, { authorization: `Bearer ${bed.token(bed.ids.alice!)}` }),
    ['alice', 'UNAUTHENTICATED: Invalid token signature'],
  );
  assert.equal(mintAccessToken(config, 1, 60).split('.').length, 3, 'the file is reused, not rewritten');
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

test('the user cache: a cached token is refused as soon as upsertUser deactivates its user', async () => {
  const server = await bed.start({ userCacheTtlMs: 60_000 });
  const client = new RawClient(bed.definitions.greeter, `127.0.0.1:${server.port}`);
  const db = await createDb(parseDatabaseUrl(bed.url, bed.project.root));
  try {
    await upsertUser(db, { username: 'carol' });
    const carol = (await db.user.findUniqueOrThrow({ where: { username: 'carol' } })).id;
    const md = { authorization: `Bearer ${bed.token(carol)}` };
    assert.equal((await client.unary('sayHello', { name: 'whoami' }, md)).value?.message, 'carol');
    assert.equal((await client.unary('sayHello', { name: 'perm:crypto.view_coin' }, md)).err?.code, status.PERMISSION_DENIED);
    await upsertUser(db, { username: 'carol', perm: ['crypto.view_coin'] });
    assert.equal(
      (await client.unary('sayHello', { name: 'perm:crypto.view_coin' }, md)).value?.message,
      'carol',
      'the new permission is seen at once',
    );
    await upsertUser(db, { username: 'carol', inactive: true });
    const r = await client.unary('sayHello', { name: 'whoami' }, md);
    assert.deepEqual([r.err?.code, r.err?.details], [status.UNAUTHENTICATED, 'User account is disabled']);
  } finally {
    client.close();
    await db.$disconnect();
  }
});
