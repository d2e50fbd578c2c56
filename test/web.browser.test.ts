// A browser page calls the crypto app through the web listener (headless Chromium, as
// dashboard.browser.test.ts drives it): the generated ECMAScript client (generated/es) with
// @connectrpc/connect-web, once over the Connect transport and once over gRPC-Web, from a page of
// another origin (CORS), against a real server on port 0. GetCoin, ListCoins, GetWallet with a
// token, Transfer, a WatchPrices stream that sees an UpdateCoinPrice made by another client, and
// the codes NotFound, Unauthenticated, InvalidArgument.
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser.ts';
import { CryptoServiceService } from '../generated/crypto_service.ts';
import { REPO } from './fixtures/project.ts';
import { webServer, type WebServer } from './support/web.ts';

let web: WebServer;
let pages: http.Server;
let origin: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** The requests the page sent to the web listener: method, path, content type. */
const sent: string[] = [];

before(async () => {
  // The page: the fixture bundled for the browser, served from an origin of its own.
  const bundle = await build({
    entryPoints: [join(REPO, 'test/fixtures/web/page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const script = bundle.outputFiles[0]!.text;
  pages = http.createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>cfg web</title><script src="/page.js"></script>');
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(pages.address() as { port: number }).port}`;
  web = await webServer({ grpc: { web: { cors: { allowedOrigins: [origin] } } } });

  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  // Calls refused on purpose (NotFound, Unauthenticated, ...) are logged by Chromium as "Failed to load resource": expected.
  page.on('console', (msg) => msg.type() === 'error' && !msg.text().startsWith('Failed to load resource') && pageErrors.push(msg.text()));
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (url.port === String(web.port) && req.method() !== 'OPTIONS')
      sent.push(`${req.method()} ${url.pathname} ${req.headers()['content-type'] ?? ''}`.trim());
  });
  const admin = web.srv.client(CryptoServiceService, { user: await web.srv.user('admin') });
  await page.exposeFunction('updatePriceElsewhere', async (price: string) => {
    await admin.updateCoinPrice({ symbol: 'BTC', priceUsd: price, change24hPercent: '0' });
  });
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => typeof (globalThis as { cryptoScenario?: unknown }).cryptoScenario === 'function');
});
after(async () => {
  await browser?.close();
  await web?.stop();
  pages?.close();
});

for (const [transport, newPrice] of [
  ['connect', '71000.25'],
  ['grpc-web', '72000.5'],
] as const) {
  test(`the generated client over connect-web's ${transport} transport: unary calls, a token, a stream, errors`, async () => {
    const aliceToken = await web.tokenOf('alice');
    sent.length = 0;
    const result = (await page.evaluate(
      (options) =>
        (globalThis as unknown as { cryptoScenario(o: typeof options): Promise<Record<string, unknown>> }).cryptoScenario(options),
      { transport, baseUrl: `http://127.0.0.1:${web.port}`, aliceToken, key: `browser-${transport}`, newPrice },
    )) as Record<string, Record<string, unknown>>;
    assert.deepEqual(result.getCoin, { symbol: 'BTC', name: 'Bitcoin', createdAt: true });
    assert.deepEqual(result.listCoins, { count: 3, next: true, total: result.listCoins!.total });
    assert.ok(Number(result.listCoins!.total) >= 5);
    assert.equal(result.getWallet!.username, 'alice');
    assert.deepEqual(
      { ...result.transfer, balance: undefined },
      { kind: 'transfer', to: 'bob', amount: '0.5', balance: undefined, replayed: false },
    );
    assert.equal(Number(result.transfer!.balance), Number(result.getWallet!.balance) - 0.5);
    assert.deepEqual(result.errors, { notFound: 'NotFound', unauthenticated: 'Unauthenticated', invalidArgument: 'InvalidArgument' });
    const watch = result.watch as { seen: string[]; ended: string };
    assert.ok(watch.seen.length >= 2, JSON.stringify(watch));
    assert.equal(watch.seen.at(-1), newPrice, 'the stream saw the change made by the other client');
    assert.equal(watch.ended, 'Canceled', 'the page ended the stream itself');
    assert.deepEqual(pageErrors, []);
    if (transport === 'connect') {
      assert.ok(sent.includes('GET /crypto.CryptoService/GetCoin'), `a method without side effects goes as GET: ${sent.join('; ')}`);
      assert.ok(sent.includes('POST /crypto.CryptoService/Transfer application/json'), sent.join('; '));
      assert.ok(sent.includes('POST /crypto.CryptoService/WatchPrices application/connect+json'), sent.join('; '));
    } else
      assert.ok(sent.length > 0 && sent.every((r) => r.startsWith('POST ') && r.endsWith(' application/grpc-web+proto')), sent.join('; '));
  });
}
