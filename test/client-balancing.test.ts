// Several addresses: grpc-js's round robin spreads a typed client's calls over three real cfg
// servers, and keeps serving from the others when one stops.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createClient, type ClientMiddleware } from '../src/index.ts';
import type { AnyDefinition } from './fixtures/client.ts';
import { importFrom } from './fixtures/project.ts';
import { greeterServers } from './support/greeter-servers.ts';

const greeter = greeterServers();

test('round robin spreads calls over three servers, and over the other two when one stops', async () => {
  const ports = [await greeter.serve({}), await greeter.serve({}), await greeter.serve({})];
  const definition = (await importFrom(await greeter.project(), 'generated/greeter.ts')).GreeterService as AnyDefinition;
  const peers: string[] = [];
  const record: ClientMiddleware = { name: 'peers', onEnd: (_call, end) => void peers.push(end.peer) };
  const client = createClient(
    definition,
    ports.map((p) => `127.0.0.1:${p}`),
    { middleware: [record] },
  );
  const hello = (client as unknown as { sayHello(r: { name: string }): Promise<{ message: string }> }).sayHello;
  const tally = () => Object.fromEntries(ports.map((p) => [p, peers.filter((peer) => peer === `127.0.0.1:${p}`).length]));
  try {
    // Once every server is connected, each call goes to the next: 30 calls give 10 each. The first
    // calls may land before every connection is ready, so only the last 30 of 36 are counted.
    for (let i = 0; i < 36; i++) assert.equal((await hello({ name: `n${i}` })).message, `hello n${i}`);
    peers.splice(0, 6);
    const spread = tally();
    console.log('calls per server (last 30 of 36):', JSON.stringify(spread));
    for (const p of ports) assert.ok(spread[p]! >= 5, `server ${p} got ${spread[p]} of 30 calls`);
    assert.equal(
      Object.values(spread).reduce((a, b) => a + b, 0),
      30,
      'every call reached one of the three',
    );

    await greeter.servers[1]!.stop();
    peers.length = 0;
    // A call sent as the server stops may fail UNAVAILABLE (SayHello is not marked idempotent).
    for (let i = 0; i < 12; i++) await hello({ name: `m${i}` }).catch(() => undefined);
    peers.length = 0;
    for (let i = 0; i < 20; i++) await hello({ name: `k${i}` });
    const after = tally();
    console.log('calls per server after the second stopped:', JSON.stringify(after));
    assert.equal(after[ports[1]!], 0);
    assert.ok(after[ports[0]!]! >= 5 && after[ports[2]!]! >= 5, JSON.stringify(after));
  } finally {
    client.close();
  }
});
