// Malformed percent-escapes on the HTTP side port: every registered route (the list comes from
// sidePortRoutes, the function the server itself builds its routes with), with a bad escape in
// each path parameter, in a query parameter's name and in its value, answers 400 bad_request with a
// message naming the part; never 500 ("URIError: URI malformed"). The port serves normally after.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sidePortRoutes } from '../src/http/server.ts';
import { callMetrics } from '../src/interceptors/metrics.ts';
import { opsBed, type OpsBed } from './support/ops-bed.ts';

/** Truncated escape, not hex, a lone %, bytes that are not UTF-8. */
const BAD = ['%E0%A4%A', '%zz', '%', '%C3%28', '%FF'];
let bed: OpsBed;
let staff: string;
let routes: ReturnType<typeof sidePortRoutes>;

before(async () => {
  bed = await opsBed('sqlite');
  staff = bed.token(bed.ids.ops);
  const running = bed.server.server;
  routes = sidePortRoutes({ config: running.config, server: running, metrics: callMetrics(), db: bed.db });
});
after(() => bed?.close());

test('the route table has routes with path parameters and routes with query parameters', () => {
  assert.ok(routes.length >= 8, `${routes.length} routes`);
  assert.ok(
    routes.some((r) => r.path.includes('/:')),
    'at least one route has a path parameter',
  );
});

test('a bad escape in every path parameter of every route: 400 naming the parameter', async () => {
  let checked = 0;
  for (const route of routes) {
    const names = route.path.split('/').filter((p) => p.startsWith(':'));
    for (const name of names) {
      for (const bad of BAD) {
        const path = route.path
          .split('/')
          .map((p) => (p === name ? `x${bad}` : p.startsWith(':') ? '1' : p))
          .join('/');
        const reply = await bed.http(path, { method: route.method, auth: staff });
        assert.equal(reply.status, 400, `${route.method} ${path}: ${reply.status} ${reply.text}`);
        assert.equal(reply.json.error, 'bad_request');
        assert.equal(
          reply.json.message,
          `Path parameter "${name.slice(1)}" is not validly percent-encoded (got ${JSON.stringify(`x${bad}`)}): each % must begin an escape %XX, and the escapes must spell UTF-8.`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked >= BAD.length);
});

test('a bad escape in the query string (name or value) of every route: 400 naming the parameter', async () => {
  for (const route of routes) {
    const path = route.path
      .split('/')
      .map((p) => (p.startsWith(':') ? '1' : p))
      .join('/');
    for (const bad of BAD) {
      const inValue = await bed.http(`${path}?limit=${bad}`, { method: route.method, auth: staff });
      assert.equal(inValue.status, 400, `${route.method} ${path}?limit=${bad}: ${inValue.status} ${inValue.text}`);
      assert.match(inValue.json.message!, /^Query parameter "limit" is not validly percent-encoded/);
      const inName = await bed.http(`${path}?a${bad}=1`, { method: route.method, auth: staff });
      assert.equal(inName.status, 400, `${route.method} ${path}?a${bad}=1: ${inName.status} ${inName.text}`);
      assert.match(inName.json.message!, /^A query parameter name is not validly percent-encoded/);
    }
  }
});

test('well-formed escapes still decode, and the port keeps serving', async () => {
  const missing = await bed.http('/api/keys/%31%32%33456', { method: 'DELETE', auth: staff });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.message, 'No API key with id 123456.');
  const calls = await bed.http('/api/calls?service=fixture.Gr%65eter&limit=1%30', { auth: staff });
  assert.equal(calls.status, 200, calls.text);
  const unknown = await bed.http('/api/calls?s%C3%A9rvice=x', { auth: staff });
  assert.equal(unknown.json.message?.startsWith('Unknown query parameter "sérvice"'), true, unknown.text);
});
