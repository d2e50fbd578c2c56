// The HTTP side port on SQLite and PostgreSQL, against a real server started by startServer with
// grpc.http on: staff-only auth (JWT or API key; 401 without or with bad credentials, 403 for a
// non-staff user) with JSON error bodies; /metrics counters moving after real gRPC calls and the
// database pool series; services with public/private methods; recent calls with every filter;
// per-method error rate and p50/p99; servers with stale ones down; API keys created, listed and
// revoked over HTTP; a key used over HTTP gets lastUsedAt (then at most once a minute); bad input
// answered 400 with a precise message.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createApiKey } from '../src/auth/api-keys.ts';
import { PROVIDERS } from './support/db.ts';
import { opsBed, type OpsBed } from './support/ops-bed.ts';

/** The value of one series in Prometheus text, or undefined. */
function series(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

for (const provider of PROVIDERS) {
  describe(`HTTP side port on ${provider}`, () => {
    let bed: OpsBed;
    let staff: string;
    before(async () => {
      bed = await opsBed(provider, { requestLog: { enabled: true, flushIntervalMs: 20 } });
      staff = bed.token(bed.ids.ops);
    });
    after(() => bed?.close());

    test('staff only: 401 without or with bad credentials, 403 for non-staff, JSON bodies', async () => {
      const none = await bed.http('/api/services');
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(none.json.error, 'unauthenticated');
      assert.match(none.json.message!, /Credentials required/);

      const forged = await bed.http('/api/services', { auth: bed.token(bed.ids.ops).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) });
      assert.equal(forged.status, 401);
      assert.match(forged.json.message!, /signature|Invalid token/);
      assert.equal((await bed.http('/api/services', { headers: { authorization: 'Basic b3BzOm9wcw==' } })).status, 401);
      assert.equal((await bed.http('/api/services', { headers: { 'x-api-key': 'cfg_not-a-key' } })).json.message, 'Invalid API key');

      const plain = await bed.http('/api/services', { auth: bed.token(bed.ids.bob) });
      assert.equal(plain.status, 403);
      assert.deepEqual(plain.json, { error: 'forbidden', message: 'User bob is not staff; the operations API is for staff users.' });

      assert.equal((await bed.http('/api/services', { auth: staff })).status, 200);
      assert.equal((await bed.http('/metrics')).status, 401, '/metrics is protected unless grpc.http.publicMetrics');
      assert.equal((await bed.http('/metrics', { auth: bed.token(bed.ids.bob) })).status, 403);

      // The dashboard page itself holds no data: it is public.
      const page = await bed.http('/');
      assert.equal(page.status, 200);
      assert.match(page.text, /<title>cfg operations<\/title>/);
      assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
      assert.equal((await bed.http('/dashboard/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');

      const missing = await bed.http('/api/nothing', { auth: staff });
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error, 'not_found');
      const wrong = await bed.http('/api/services', { method: 'DELETE', auth: staff });
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.get('allow'), 'GET');
    });

    test('/metrics: counters and latency move after real gRPC calls; database series', async () => {
      const before = await bed.http('/metrics', { auth: staff });
      assert.equal(before.status, 200);
      assert.match(before.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
      const hello = { grpc_service: 'fixture.Greeter', grpc_method: 'SayHello', grpc_type: 'unary' };
      const ok0 = series(before.text, 'grpc_server_handled_total', { ...hello, grpc_code: 'OK' });
      assert.equal(ok0, 0, 'every method is exported from start-up');

      for (let i = 0; i < 3; i++) assert.ok((await bed.greeter.unary('sayHello', { name: 'x' })).value);
      const refused = await bed.greeter.unary('fail', { kind: 'grpc' });
      assert.equal(refused.err?.code, status.UNAUTHENTICATED, 'a private method without a token');

      const after = (await bed.http('/metrics', { auth: staff })).text;
      assert.equal(series(after, 'grpc_server_handled_total', { ...hello, grpc_code: 'OK' }), 3);
      assert.equal(series(after, 'grpc_server_handled_total', { grpc_method: 'Fail', grpc_code: 'UNAUTHENTICATED' }), 1);
      assert.equal(series(after, 'grpc_server_started_total', hello), 3);
      assert.equal(series(after, 'grpc_server_handling_seconds_count', hello), 3);
      assert.equal(series(after, 'grpc_server_handling_seconds_bucket', { ...hello, le: '+Inf' }), 3);
      assert.equal(series(after, 'grpc_server_in_flight', hello), 0);
      assert.equal(series(after, 'cfg_db_info', { provider }), 1);
      assert.ok(series(after, 'process_resident_memory_bytes', {})! > 0);
      if (provider === 'postgresql') {
        const total = series(after, 'cfg_db_pool_connections', { state: 'total' });
        const idle = series(after, 'cfg_db_pool_connections', { state: 'idle' });
        assert.ok(total !== undefined && total >= 1, `pool total ${total}`);
        assert.ok(idle !== undefined && idle <= total);
        assert.equal(series(after, 'cfg_db_pool_connections', { state: 'waiting' }), 0);
      } else {
        assert.equal(series(after, 'cfg_db_pool_connections', { state: 'total' }), undefined, 'SQLite has no pool');
      }
    });

    test('/api/calls shows the real calls the request log recorded, with the user', async () => {
      await bed.db.requestLog.deleteMany({});
      // Calls of earlier tests may still be on their way to the table (the writer is batched).
      const since = Date.now();
      const token = bed.token(bed.ids.ops);
      assert.ok((await bed.greeter.unary('fail', { kind: 'none' }, { authorization: `Bearer ${token}` })).value);
      assert.equal((await bed.greeter.unary('fail', { kind: 'none' })).err?.code, status.UNAUTHENTICATED);
      let calls: Array<Record<string, unknown>> = [];
      for (let i = 0; i < 200 && calls.length < 2; i++) {
        const all = (await bed.http('/api/calls?method=Fail', { auth: staff })).json.calls as Array<Record<string, unknown>>;
        calls = all.filter((c) => Date.parse(String(c.createdAt)) >= since);
        if (calls.length < 2) await new Promise((r) => setTimeout(r, 25));
      }
      assert.deepEqual(
        calls.map((c) => [c.service, c.method, c.status, c.username]),
        [
          ['fixture.Greeter', 'Fail', 'UNAUTHENTICATED', null],
          ['fixture.Greeter', 'Fail', 'OK', 'ops'],
        ],
      );
      assert.equal(calls[1]!.userId, bed.ids.ops);
      assert.equal(calls[1]!.serverId, bed.server.serverId);
    });

    test('/api/services: methods with kind and public/private', async () => {
      const { json } = await bed.http('/api/services', { auth: staff });
      const services = json.services as Array<{
        name: string;
        builtin: boolean;
        methods: Array<{ name: string; kind: string; public: boolean }>;
      }>;
      const greeter = services.find((s) => s.name === 'fixture.Greeter')!;
      const access = Object.fromEntries(greeter.methods.map((m) => [m.name, m.public]));
      assert.deepEqual(access, { SayHello: true, CountUp: true, Sum: false, Chat: false, Fail: false, Hold: false });
      assert.equal(greeter.methods.find((m) => m.name === 'Chat')!.kind, 'bidi');
      const farewell = services.find((s) => s.name === 'fixture.Farewell')!;
      assert.ok(
        farewell.methods.every((m) => !m.public),
        'an AuthRequiredService is private throughout',
      );
    });

    test('/api/calls: newest first, filtered by service, method, status, user; limit; 400 on bad input', async () => {
      const t0 = Date.now() - 60_000;
      const row = (i: number, method: string, code: number, userId: number | null, durationMs: number) => ({
        createdAt: new Date(t0 + i * 1000),
        service: method === 'Ping' ? 'fixture.Ping' : 'fixture.Greeter',
        method,
        code,
        durationMs,
        userId,
        peer: 'ipv4:127.0.0.1:1',
        error: code ? 'failed' : null,
      });
      await bed.db.requestLog.deleteMany({});
      await bed.db.requestLog.createMany({
        data: [
          row(1, 'SayHello', 0, bed.ids.bob, 1),
          row(2, 'SayHello', 5, bed.ids.ops, 2),
          row(3, 'Fail', 5, null, 3),
          row(4, 'Ping', 0, bed.ids.bob, 4),
          row(5, 'SayHello', 0, null, 5),
        ],
      });
      const calls = async (query: string) => {
        const r = await bed.http(`/api/calls${query}`, { auth: staff });
        assert.equal(r.status, 200, r.text);
        return (r.json.calls as Array<{ method: string; durationMs: number; status: string; username: string | null }>).map(
          (c) => c.durationMs,
        );
      };
      assert.deepEqual(await calls(''), [5, 4, 3, 2, 1]);
      assert.deepEqual(await calls('?service=fixture.Ping'), [4]);
      assert.deepEqual(await calls('?method=SayHello'), [5, 2, 1]);
      assert.deepEqual(await calls('?status=NOT_FOUND'), [3, 2]);
      assert.deepEqual(await calls('?status=not_found&method=Fail'), [3]);
      assert.deepEqual(await calls('?status=0'), [5, 4, 1]);
      assert.deepEqual(await calls('?user=bob'), [4, 1]);
      assert.deepEqual(await calls(`?user=${bed.ids.ops}`), [2]);
      assert.deepEqual(await calls('?user=nobody'), []);
      assert.deepEqual(await calls('?limit=2'), [5, 4]);
      const one = (await bed.http('/api/calls?limit=1&user=bob', { auth: staff })).json.calls as Array<Record<string, unknown>>;
      assert.equal(one[0]!.username, 'bob');
      assert.equal(one[0]!.status, 'OK');
      assert.equal(one[0]!.service, 'fixture.Ping');

      for (const [query, message] of [
        ['?limit=0', 'limit must be an integer from 1 to 1000 (got "0").'],
        ['?limit=abc', 'limit must be an integer from 1 to 1000 (got "abc").'],
        ['?limit=5000', 'limit must be an integer from 1 to 1000 (got "5000").'],
        [
          '?status=BROKEN',
          'status must be a gRPC status name (OK, NOT_FOUND, UNAUTHENTICATED, ...) or a code from 0 to 16 (got "BROKEN").',
        ],
        ['?sevice=x', 'Unknown query parameter "sevice"; this endpoint accepts "service", "method", "status", "user", "limit".'],
        ['?limit=1&limit=2', 'Query parameter "limit" is given twice.'],
      ]) {
        const r = await bed.http(`/api/calls${query}`, { auth: staff });
        assert.equal(r.status, 400, query);
        assert.deepEqual(r.json, { error: 'bad_request', message }, query);
      }
    });

    test('/api/stats: error rate, p50 and p99 per method over the window', async () => {
      await bed.db.requestLog.deleteMany({});
      const now = Date.now();
      const data = [];
      // SayHello: 100 calls taking 1..100 ms, every tenth failing; an old call outside the window.
      for (let i = 1; i <= 100; i++)
        data.push({
          createdAt: new Date(now - 1000),
          service: 'fixture.Greeter',
          method: 'SayHello',
          code: i % 10 === 0 ? 13 : 0,
          durationMs: i,
        });
      data.push({ createdAt: new Date(now - 3 * 3600_000), service: 'fixture.Greeter', method: 'SayHello', code: 13, durationMs: 9999 });
      data.push({ createdAt: new Date(now - 1000), service: 'fixture.Ping', method: 'Ping', code: 0, durationMs: 7 });
      await bed.db.requestLog.createMany({ data });
      const r = await bed.http('/api/stats?window=1h', { auth: staff });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.windowSeconds, 3600);
      assert.deepEqual(r.json.methods, [
        { service: 'fixture.Greeter', method: 'SayHello', count: 100, errors: 10, errorRate: 0.1, p50Ms: 50, p99Ms: 99 },
        { service: 'fixture.Ping', method: 'Ping', count: 1, errors: 0, errorRate: 0, p50Ms: 7, p99Ms: 7 },
      ]);
      const wide = await bed.http('/api/stats?window=1d', { auth: staff });
      assert.equal((wide.json.methods as Array<{ count: number }>)[0]!.count, 101);
      for (const w of ['0s', '8d', 'soon']) {
        const bad = await bed.http(`/api/stats?window=${w}`, { auth: staff });
        assert.equal(bad.status, 400);
        assert.equal(bad.json.message, `window must be a duration from 1s to 7d such as 90s, 15m, 1h or 1d (got "${w}").`);
      }
    });

    test('/api/servers: monitor rows with uptime; a stale heartbeat shows as down', async () => {
      await bed.db.serverInstance.deleteMany({});
      const now = Date.now();
      await bed.db.serverInstance.createMany({
        data: [
          {
            id: 'live',
            host: 'h1',
            pid: 1,
            address: '127.0.0.1:1',
            version: '0.1.0',
            services: 'fixture.Greeter,fixture.Ping',
            startedAt: new Date(now - 90_000),
            lastHeartbeat: new Date(now - 1000),
            status: 'serving',
          },
          {
            id: 'gone',
            host: 'h2',
            pid: 2,
            address: '127.0.0.1:2',
            version: '0.1.0',
            services: 'fixture.Greeter',
            startedAt: new Date(now - 7200_000),
            lastHeartbeat: new Date(now - 3600_000),
            status: 'serving',
          },
        ],
      });
      const r = await bed.http('/api/servers', { auth: staff });
      assert.equal(r.status, 200);
      const servers = r.json.servers as Array<{ id: string; status: string; uptimeSeconds: number | null; services: string[] }>;
      const live = servers.find((s) => s.id === 'live')!;
      assert.equal(live.status, 'serving');
      assert.ok(live.uptimeSeconds! >= 89 && live.uptimeSeconds! < 120, `uptime ${live.uptimeSeconds}`);
      assert.deepEqual(live.services, ['fixture.Greeter', 'fixture.Ping']);
      const gone = servers.find((s) => s.id === 'gone')!;
      assert.equal(gone.status, 'down');
      assert.equal(gone.uptimeSeconds, null);
    });

    test('API keys over HTTP: create (the key once), list, use, revoke; bad bodies are 400', async () => {
      const created = await bed.http('/api/keys', { method: 'POST', auth: staff, body: JSON.stringify({ name: 'scraper' }) });
      assert.equal(created.status, 201, created.text);
      const key = created.json.key as string;
      const info = created.json.apiKey as { id: number; prefix: string; username: string; isActive: boolean };
      assert.match(key, /^cfg_/);
      assert.equal(info.username, 'ops', 'owned by the caller by default');
      assert.equal(info.prefix, key.slice(0, info.prefix.length));

      const listed = await bed.http('/api/keys', { auth: staff });
      assert.ok(!listed.text.includes(key), 'the list never shows a key');
      assert.ok((listed.json.keys as Array<{ id: number }>).some((k) => k.id === info.id));

      // A staff key works in x-api-key and as a bearer value (what Prometheus sends); /metrics too.
      assert.equal((await bed.http('/api/keys', { headers: { 'x-api-key': key } })).status, 200);
      assert.equal((await bed.http('/metrics', { auth: key })).status, 200);
      // A key of a non-staff user is 403.
      const bobs = await bed.http('/api/keys', { method: 'POST', auth: staff, body: JSON.stringify({ name: 'bob key', username: 'bob' }) });
      assert.equal(bobs.status, 201);
      assert.equal((await bed.http('/api/keys', { headers: { 'x-api-key': bobs.json.key as string } })).status, 403);

      // A key of bob's authenticates gRPC calls until it is revoked over HTTP.
      const bobKey = bobs.json.key as string;
      assert.equal((await bed.greeter.unary('fail', { kind: 'none' }, { 'x-api-key': bobKey })).value?.message, 'bob');
      const bobId = (bobs.json.apiKey as { id: number }).id;
      assert.deepEqual((await bed.http(`/api/keys/${bobId}`, { method: 'DELETE', auth: staff })).json, { revoked: true, id: bobId });
      const after = await bed.greeter.unary('fail', { kind: 'none' }, { 'x-api-key': bobKey });
      assert.equal(after.err?.code, status.UNAUTHENTICATED);
      assert.match(after.err!.details, /API key revoked/);

      const revoked = await bed.http(`/api/keys/${info.id}`, { method: 'DELETE', auth: staff });
      assert.deepEqual(revoked.json, { revoked: true, id: info.id });
      const refused = await bed.http('/api/keys', { headers: { 'x-api-key': key } });
      assert.equal(refused.status, 401);
      assert.equal(refused.json.message, 'API key revoked');
      assert.equal(Array.isArray((await bed.http('/api/keys', { auth: staff })).json.keys), true);
      const row = ((await bed.http('/api/keys', { auth: staff })).json.keys as Array<{ id: number; isActive: boolean }>).find(
        (k) => k.id === info.id,
      )!;
      assert.equal(row.isActive, false);

      const post = (body: string) =>
        bed.http('/api/keys', { method: 'POST', auth: staff, body, headers: { 'content-type': 'application/json' } });
      const cases: Array<[string, RegExp]> = [
        ['{"name": ', /^The body is not valid JSON: /],
        ['', /^The body is empty; send a JSON object\.$/],
        ['[1]', /^The body must be a JSON object/],
        ['{}', /^name must be a non-empty string of at most 100 characters\.$/],
        ['{"name": "x", "owner": "bob"}', /^Unknown field "owner"/],
        ['{"name": "x", "username": "ghost"}', /^No user named "ghost"\.$/],
        ['{"name": "x", "expiresAt": "tomorrow"}', /^expiresAt must be an ISO 8601 date-time/],
        ['{"name": "x", "expiresAt": "2001-01-01T00:00:00Z"}', /^expiresAt must be in the future\.$/],
      ];
      for (const [body, message] of cases) {
        const r = await post(body);
        assert.equal(r.status, 400, body);
        assert.equal(r.json.error, 'bad_request');
        assert.match(r.json.message!, message, body);
      }
      assert.equal((await bed.http('/api/keys/abc', { method: 'DELETE', auth: staff })).status, 400);
      const unknown = await bed.http('/api/keys/987654', { method: 'DELETE', auth: staff });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json.message, 'No API key with id 987654.');
      assert.equal((await bed.http('/api/keys', { method: 'POST', auth: bed.token(bed.ids.bob), body: '{"name":"x"}' })).status, 403);
    });

    test('an API key used over HTTP gets lastUsedAt within a recheck interval, then at most once a minute', async () => {
      const { key, apiKey } = await createApiKey(bed.db, { userId: bed.ids.ops, name: 'http usage' });
      const read = async () => (await bed.db.apiKey.findUniqueOrThrow({ where: { id: apiKey.id } })).lastUsedAt;
      assert.equal(await read(), null, 'a new key has never been used');
      const used = Date.now();
      assert.equal((await bed.http('/api/services', { headers: { 'x-api-key': key } })).status, 200);
      assert.equal((await bed.http('/metrics', { auth: key })).status, 200, 'as a bearer value too');
      let first: Date | null = null;
      // apiKeyRecheckMs is 1 s: the first use is written by the next tick.
      for (let i = 0; i < 60 && !first; i++) {
        await sleep(50);
        first = await read();
      }
      assert.ok(first, 'lastUsedAt written after use over HTTP only (no gRPC call with this key)');
      assert.ok(first.getTime() >= used - 1000 && first.getTime() <= Date.now(), `lastUsedAt ${first.toISOString()}`);
      for (let i = 0; i < 5; i++) assert.equal((await bed.http('/api/services', { headers: { 'x-api-key': key } })).status, 200);
      await sleep(2500);
      assert.deepEqual(await read(), first, 'not rewritten for every request: at most once a minute per key');
    });
  });
}
