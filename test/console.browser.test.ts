// The dashboard's request console in headless Chromium (as dashboard.browser.test.ts drives it),
// against the crypto app with the web listener and the side port on: a GetCoin from the form
// built from the request's descriptor, errors, a call as the signed-in user and as nobody, and a
// WatchPrices stream shown live (another client's price change arrives) and cancelled from the page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './support/browser.ts';
import { CryptoServiceService } from '../generated/crypto_service.ts';
import { webServer, type WebServer } from './support/web.ts';

let web: WebServer;
/** Open event subscriptions (WatchPrices streams) in the server's process. */
const subscribers = () => web.srv.running.events.stats().subscribers;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  web = await webServer({ grpc: { http: { enabled: true, host: '127.0.0.1', port: 0 } } });
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && !msg.text().startsWith('Failed to load resource') && pageErrors.push(msg.text()));
  await page.goto(`http://127.0.0.1:${web.srv.running.httpPort}/`);
  await page.fill('#credential', await web.tokenOf('admin'));
  await page.click('#login button[type=submit]');
  await page.waitForSelector('#main:not([hidden])');
  await page.waitForSelector('#console-method option[value="/crypto.CryptoService/GetCoin"]', { state: 'attached' });
});
after(async () => {
  await browser?.close();
  await web?.stop();
});

const statusText = () => page.textContent('#console-status');
async function send(): Promise<string> {
  await page.evaluate(
    () =>
      ((globalThis as unknown as { document: { querySelector(s: string): { textContent: string } } }).document.querySelector(
        '#console-status',
      ).textContent = ''),
  );
  await page.click('#console-send');
  await page.waitForFunction(() => {
    const text = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } } }).document.querySelector(
      '#console-status',
    ).textContent;
    return text !== '' && !text.endsWith('…');
  });
  return (await statusText())!;
}

test('a unary call from the form built from the request descriptor: the reply, status and time; errors; as me and as nobody', async () => {
  await page.selectOption('#console-method', '/crypto.CryptoService/GetCoin');
  assert.ok(await page.isVisible('#console-field-symbol'), 'a field for GetCoinRequest.symbol');
  await page.fill('#console-field-symbol', 'BTC');
  assert.equal(await send(), 'OK');
  assert.match((await page.textContent('#console-time'))!, /^\d+\.\d ms$/);
  const reply = JSON.parse((await page.textContent('#console-reply'))!) as { coin: { symbol: string; name: string } };
  assert.deepEqual([reply.coin.symbol, reply.coin.name], ['BTC', 'Bitcoin']);

  await page.fill('#console-field-symbol', 'NOPE');
  assert.equal(await send(), 'NOT_FOUND: Coin NOPE not found');

  // ListCoins' form: an enum as a select, numbers as numbers.
  await page.selectOption('#console-method', '/crypto.CryptoService/ListCoins');
  assert.deepEqual(await page.$$eval('#console-field-sort option', (os) => os.map((o) => o.textContent)), [
    'COIN_SORT_UNSPECIFIED',
    'COIN_SORT_MARKET_CAP',
    'COIN_SORT_SYMBOL',
    'COIN_SORT_PRICE',
  ]);
  await page.fill('#console-field-pageSize', '2');
  await page.selectOption('#console-field-sort', 'COIN_SORT_SYMBOL');
  assert.equal(await send(), 'OK');
  const list = JSON.parse((await page.textContent('#console-reply'))!) as { coins: Array<{ symbol: string }> };
  assert.equal(list.coins.length, 2);
  assert.deepEqual(
    list.coins.map((c) => c.symbol),
    [...list.coins.map((c) => c.symbol)].sort(),
  );

  await page.selectOption('#console-method', '/crypto.CryptoService/GetWallet');
  await page.fill('#console-field-symbol', 'BTC');
  await page.selectOption('#console-as', 'anonymous');
  assert.match(await send(), /^UNAUTHENTICATED/);
  await page.selectOption('#console-as', 'me');
  assert.equal(await send(), 'OK');
  assert.equal((JSON.parse((await page.textContent('#console-reply'))!) as { wallet: { username: string } }).wallet.username, 'admin');
  await page.selectOption('#console-as', 'other');
  await page.fill('#console-credential', await web.tokenOf('bob'));
  assert.equal(await send(), 'OK');
  assert.equal((JSON.parse((await page.textContent('#console-reply'))!) as { wallet: { username: string } }).wallet.username, 'bob');
  await page.selectOption('#console-as', 'me');
  assert.deepEqual(pageErrors, []);
});

test("a WatchPrices stream in raw JSON: messages shown live, another client's change arrives, cancelled from the page", async () => {
  const before = subscribers();
  await page.selectOption('#console-method', '/crypto.CryptoService/WatchPrices');
  await page.check('#console-raw-toggle');
  await page.fill('#console-raw', '{"symbols":["BTC"]}');
  await page.click('#console-send');
  await page.locator('#console-messages li').first().waitFor();
  assert.equal(await statusText(), 'streaming…');
  assert.equal(subscribers(), before + 1);
  const admin = web.srv.client(CryptoServiceService, { user: await web.srv.user('admin') });
  await admin.updateCoinPrice({ symbol: 'BTC', priceUsd: '73000.75', change24hPercent: '0' });
  await page.locator('#console-messages li', { hasText: '73000.75' }).waitFor();
  await page.click('#console-cancel');
  await page.waitForFunction(() =>
    (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } } }).document
      .querySelector('#console-status')
      .textContent.startsWith('CANCELLED'),
  );
  const until = Date.now() + 5000;
  while (subscribers() > before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.equal(subscribers(), before, 'the cancel reached the server: the subscription ended');
  await page.uncheck('#console-raw-toggle');
  assert.deepEqual(pageErrors, []);
});
