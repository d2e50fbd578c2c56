// The dashboard in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core; no
// browser is downloaded; scripts/ensure-chromium.mjs installs it when missing). A real server on
// port 0 with the request log on: the page signs in with a staff token, shows the services, the
// calls this test just made over gRPC (and filters them), the charts and the server; a key created
// in the page works for gRPC, and revoking it in the page makes the next gRPC call with it
// UNAUTHENTICATED.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser.ts';
import { configureLogging } from '../src/log/logger.ts';
import { opsBed, type OpsBed } from './support/ops-bed.ts';

configureLogging({ level: 'silent' });

let bed: OpsBed;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  bed = await opsBed('sqlite', { requestLog: { enabled: true, flushIntervalMs: 50 }, monitor: { enabled: true, heartbeatMs: 1000 } });
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  // Refused requests (the bad sign-in's 401s) are logged by Chromium as "Failed to load resource": expected.
  page.on('console', (msg) => msg.type() === 'error' && !msg.text().startsWith('Failed to load resource') && pageErrors.push(msg.text()));
  page.on('dialog', (dialog) => void dialog.accept());
});
after(async () => {
  await browser?.close();
  await bed?.close();
});

/** The little of the DOM these checks touch (functions passed to the page run there, not here). */
interface Dom {
  document: {
    querySelector(selector: string): { textContent: string | null } | null;
    querySelectorAll(selector: string): Iterable<{ textContent: string | null; getAttribute(name: string): string | null }>;
  };
  sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}

/** Rows of a table as text cells. */
const rows = (selector: string) =>
  page.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));

test('sign in, see services, servers, the calls just made, charts; keys created and revoked in the page', async () => {
  // Real gRPC calls, recorded by the request log.
  const staffToken = bed.token(bed.ids.ops);
  for (let i = 0; i < 3; i++)
    assert.ok((await bed.greeter.unary('sayHello', { name: 'whoami' }, { authorization: `Bearer ${staffToken}` })).value);
  assert.equal((await bed.greeter.unary('fail', { kind: 'grpc' })).err?.code, status.UNAUTHENTICATED);

  await page.goto(`http://127.0.0.1:${bed.server.httpPort}/`);
  assert.equal(await page.isVisible('#login'), true, 'the sign-in box comes first');
  await page.fill('#credential', 'not-a-token');
  await page.click('#login button[type=submit]');
  await page.waitForFunction(() => (globalThis as unknown as Dom).document.querySelector('#login-error')!.textContent !== '');
  assert.equal(await page.textContent('#login-error'), 'Invalid API key');

  await page.fill('#credential', staffToken);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#main:not([hidden])');
  assert.equal(
    await page.evaluate(() => (globalThis as unknown as Dom).sessionStorage.getItem('cfg.credential')),
    staffToken,
    'kept in sessionStorage',
  );
  assert.equal(await page.textContent('#who'), 'signed in as ops');

  // Services and their methods.
  const services = await page.textContent('#services');
  assert.match(services!, /fixture\.Greeter/);
  assert.match(services!, /SayHello.*public/);
  assert.match(services!, /Fail.*user/);

  // The calls this test made (the log is written in batches: the page refreshes every 5 s).
  await page.locator('#calls tbody tr').nth(3).waitFor({ timeout: 15_000 });
  const calls = await rows('#calls');
  assert.equal(calls.filter((c) => c[1] === 'fixture.Greeter/SayHello' && c[2] === 'OK' && c[4] === 'ops').length, 3);
  assert.equal(calls.filter((c) => c[1] === 'fixture.Greeter/Fail' && c[2] === 'UNAUTHENTICATED').length, 1);

  // Filters.
  await page.fill('#calls-filter input[name=status]', 'UNAUTHENTICATED');
  await page.click('#calls-filter button[type=submit]');
  await page.waitForFunction(() =>
    [...(globalThis as unknown as Dom).document.querySelectorAll('#calls tbody tr')].every(
      (tr) => tr.getAttribute('data-status') === 'UNAUTHENTICATED',
    ),
  );
  assert.deepEqual(
    (await rows('#calls')).map((c) => c[1]),
    ['fixture.Greeter/Fail'],
  );
  await page.fill('#calls-filter input[name=status]', '');

  // Charts: one bar per method for errors, two for latency.
  await page.waitForSelector('#chart-errors svg rect');
  const errorBars = await page.$$eval('#chart-errors rect title', (ts) => ts.map((t) => t.textContent));
  assert.ok(errorBars.includes('fixture.Greeter/Fail errorRate: 100.0%'), errorBars.join('\n'));
  assert.ok(errorBars.includes('fixture.Greeter/SayHello errorRate: 0.0%'), errorBars.join('\n'));
  assert.equal(await page.$$eval('#chart-latency rect', (r) => r.length), 2 * errorBars.length);

  // The server itself, from the monitor, with its uptime.
  await page.locator('#servers tbody tr td').nth(1).waitFor({ timeout: 15_000 });
  const servers = await rows('#servers');
  assert.ok(
    servers.some((s) => s[1] === `127.0.0.1:${bed.server.port}` && s[2] === 'serving' && /\d+s|\d+m/.test(s[3]!)),
    JSON.stringify(servers),
  );

  // A key created in the page (for bob) works for gRPC...
  await page.fill('#key-form input[name=name]', 'browser key');
  await page.fill('#key-form input[name=username]', 'bob');
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#new-key:not([hidden])');
  const key = (await page.textContent('#new-key-value'))!;
  assert.match(key, /^cfg_/);
  const ok = await bed.greeter.unary('fail', { kind: 'none' }, { 'x-api-key': key });
  assert.equal(ok.err, undefined, 'the new key authenticates a private method');
  assert.equal(ok.value?.message, 'bob');
  await page.locator('#keys tbody tr', { hasText: 'browser key' }).waitFor();
  const made = (await rows('#keys')).find((r) => r[1] === 'browser key')!;
  assert.deepEqual([made[3], made[4]], ['bob', 'ops'], 'owner and who made it');

  // ...until it is revoked in the page: the next call with it is UNAUTHENTICATED.
  const row = page.locator('#keys tbody tr', { hasText: 'browser key' });
  await row.locator('button.revoke').click();
  await page.locator('#keys tbody tr', { hasText: 'browser key' }).locator('td', { hasText: 'revoked' }).waitFor();
  const refused = await bed.greeter.unary('fail', { kind: 'none' }, { 'x-api-key': key });
  assert.equal(refused.err?.code, status.UNAUTHENTICATED);

  assert.deepEqual(pageErrors, [], 'no script errors (CSP included)');
});

test('calls per second and p99 over time per method; stopped servers folded under the live one', async () => {
  // A chart per method the request log saw, with its two lines.
  await page.waitForSelector('#chart-series svg[data-method="fixture.Greeter/SayHello"] polyline.line-p99', { state: 'attached' });
  assert.equal(await page.$$eval('#chart-series svg[data-method="fixture.Greeter/SayHello"] polyline', (ls) => ls.length), 2);
  assert.match(
    (await page.textContent('#chart-series svg[data-method="fixture.Greeter/SayHello"] title'))!,
    /^fixture\.Greeter\/SayHello: up to \d+\.\d\d calls\/s, p99 up to \d+\.\d ms/,
  );
  // Two servers of yesterday's restarts: folded, the live one alone in the table.
  const old = {
    host: 'h',
    pid: 1,
    address: '127.0.0.1:1',
    version: '0.1.0',
    services: 'fixture.Greeter',
    startedAt: new Date(Date.now() - 86_400_000),
    lastHeartbeat: new Date(Date.now() - 80_000_000),
  };
  await bed.db.serverInstance.createMany({
    data: [
      { ...old, id: 'old-1', status: 'stopped' },
      { ...old, id: 'old-2', status: 'serving' },
    ],
  });
  await page.reload();
  await page.waitForSelector('#servers-past:not([hidden])');
  assert.equal(await page.textContent('#servers-past summary'), '2 stopped or down servers');
  assert.deepEqual(
    (await rows('#servers')).map((r) => r[2]),
    ['serving'],
  );
  assert.deepEqual((await page.$$eval('#servers-past tbody tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent))).sort(), [
    'down',
    'stopped',
  ]);
  assert.deepEqual(pageErrors, []);
});

test('a credential that stops working signs the page out', async () => {
  await page.evaluate(() => (globalThis as unknown as Dom).sessionStorage.setItem('cfg.credential', 'cfg_revoked-or-bogus'));
  await page.reload();
  await page.waitForSelector('#login:not([hidden])');
  assert.equal(await page.textContent('#login-error'), 'Invalid API key');
  assert.equal(await page.evaluate(() => (globalThis as unknown as Dom).sessionStorage.getItem('cfg.credential')), null);
});
