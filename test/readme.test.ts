// README.md, followed word for word (test/support/readme.ts: a copy of this repository as `npm
// install` leaves it, its code blocks run as the steps): the first screen, "Writing a service"
// and "Switching to PostgreSQL". "A cfg call session": readme-call-session.test.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import pg from 'pg';
import { PG_URL } from './support/db.ts';
import { blocks, env, follow, readmeProject, run, schema, servers, stopServers } from './support/readme.ts';

test('the first command serves the crypto app, and the first call reaches it', async () => {
  await run('npx cfg rungrpc &');
  await follow(blocks(null).slice(1)); // after the block of the two commands
  await stopServers();
});

test('"Writing a service": the notes app, from its .proto to a unary and a streaming call', async () => {
  const steps = blocks('Writing a service').filter((b) => b.lang === 'bash' || /^\/\/ /.test(b.lines[0] ?? ''));
  await follow(steps);
  // The naming rule the README states.
  assert.match(await readFile(readmeProject().path('generated', 'notes.ts'), 'utf8'), /^export const NotesServiceService = \{$/m);
  assert.equal(servers.length, 1, 'the README started one server');
  assert.match(
    servers[0]!.stdout,
    /notes\.NotesService \(NotesService\)\n {4}AddNote public\n {4}ListNotes \[serverStream\] public|notes\.NotesService \(NotesService\)\n {4}AddNote\n {4}ListNotes \[serverStream\]/,
  );
  await stopServers();
});

test('"Browsers and curl": curl calls the web listener with JSON, by POST and GET, with a token, and gets Connect error JSON', async () => {
  const [bash] = blocks('Browsers and curl (gRPC-Web and Connect)').filter((b) => b.lang === 'bash');
  await follow([bash!]);
  const [, post, get, , wallet, missing] = bash!.lines;
  assert.equal((JSON.parse(await run(post!)) as { coin: { symbol: string } }).coin.symbol, 'BTC');
  assert.equal((JSON.parse(await run(get!)) as { coin: { symbol: string } }).coin.symbol, 'ETH');
  assert.equal((JSON.parse(await run(wallet!)) as { wallet: { username: string } }).wallet.username, 'alice');
  assert.deepEqual(JSON.parse(await run(missing!)), { code: 'not_found', message: 'Coin XYZ not found' });
  await stopServers();
});

test('"Switching to PostgreSQL": migrate, seed, serve and call on PostgreSQL', async () => {
  await follow(blocks('Switching to PostgreSQL'));
  assert.match(env.DATABASE_URL!, /^postgresql:/);
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query(`SELECT "symbol" FROM "${schema}"."crypto_coin" ORDER BY "symbol"`);
    assert.ok(
      rows.some((r: { symbol: string }) => r.symbol === 'BTC'),
      'the seed went to PostgreSQL',
    );
  } finally {
    await admin.end();
  }
  await stopServers();
});
