// `cfg proto lint` and `cfg proto format [--check]`, run as a user runs them with the real buf in
// temporary projects: each finding is file:line:column with its rule and makes the exit code 1;
// buf.yaml decides the rules (cfg's defaults without one); buf refusing its input is one line
// with its code and what to do. (`cfg proto breaking`: proto-breaking.test.ts.)
import assert from 'node:assert/strict';
import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MINIMAL_CONFIG, bareProject, REPO, type Project } from './fixtures/project.ts';
import { SHOP } from './fixtures/shop-proto.ts';

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

/** A project with the given files and no cfg.config.ts: cfg's defaults. */
const project = async (files: Record<string, string>) =>
  projects[projects.push(await bareProject({ 'cfg.config.ts': MINIMAL_CONFIG, ...files }, 'cfg-lint-')) - 1]!;

describe('cfg proto lint', () => {
  test('a seeded violation: file:line:column, the message and the rule, exit 1; the same file fixed is clean, exit 0', async () => {
    const p = await project({ 'proto/shop.proto': SHOP.replace('string name = 2;', 'string ItemName = 2;') });
    const bad = await p.run(['proto', 'lint']);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stdout,
      'proto/shop.proto:16:10: Field name "ItemName" should be lower_snake_case, such as "item_name". (FIELD_LOWER_SNAKE_CASE)\n',
    );
    assert.equal(bad.stderr, "✗ 1 lint finding(s) in proto/ under cfg's default rules\n");

    await p.write('proto/shop.proto', SHOP);
    const good = await p.run(['proto', 'lint']);
    assert.equal(good.code, 0, good.stdout + good.stderr);
    assert.equal(good.stdout, "✓ proto/: 1 file(s) clean under cfg's default rules\n");
  });

  test("the crypto proto is clean under the repository's buf.yaml; buf.yaml decides, cfg's defaults apply without it", async () => {
    const p = await project({ 'proto/crypto_service.proto': await readFile(join(REPO, 'proto', 'crypto_service.proto'), 'utf8') });
    await copyFile(join(REPO, 'buf.yaml'), p.path('buf.yaml'));
    const clean = await p.run(['proto', 'lint']);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.equal(clean.stdout, '✓ proto/: 1 file(s) clean under buf.yaml\n');

    // Without buf.yaml the crypto proto meets the rules buf.yaml waives for it.
    await rm(p.path('buf.yaml'));
    const defaults = await p.run(['proto', 'lint']);
    assert.equal(defaults.code, 1);
    assert.match(
      defaults.stdout,
      /^proto\/crypto_service\.proto:6:1: Package name "crypto" should be suffixed with a correctly formed version, such as "crypto\.v1"\. \(PACKAGE_VERSION_SUFFIX\)$/m,
    );
    assert.match(
      defaults.stdout,
      /^proto\/crypto_service\.proto:12:40: RPC response type "CoinResponse" should be named "GetCoinResponse" or "CryptoServiceGetCoinResponse"\. \(RPC_RESPONSE_STANDARD_NAME\)$/m,
    );
    assert.match(defaults.stdout, /\(RPC_REQUEST_RESPONSE_UNIQUE\)$/m);
    assert.deepEqual(
      new Set([...defaults.stdout.matchAll(/\((\w+)\)$/gm)].map((m) => m[1])),
      new Set(['PACKAGE_VERSION_SUFFIX', 'RPC_REQUEST_RESPONSE_UNIQUE', 'RPC_RESPONSE_STANDARD_NAME']),
    );
  });

  test('a .proto that does not compile is a COMPILE finding at its place', async () => {
    const p = await project({ 'proto/shop.proto': SHOP.replace('string id = 1;', 'strin id = 1;') });
    const r = await p.run(['proto', 'lint']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^proto\/shop\.proto:11:3: .*strin.* \(COMPILE\)$/m);
  });

  test('buf refusing the config, or no proto dir: one line with the code and what to do, no stack', async () => {
    const p = await project({ 'proto/shop.proto': SHOP, 'buf.yaml': 'version: v9\n' });
    const r = await p.run(['proto', 'lint']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error E_BUF buf lint failed: .*v9.*\nhint {2}Fix what buf names .*\n$/);
    assert.equal(r.stdout, '');

    const empty = await project({});
    for (const command of [['lint'], ['format', '--check'], ['breaking', '--against', 'HEAD']]) {
      const missing = await empty.run(['proto', ...command]);
      assert.equal(missing.code, 1, command.join(' '));
      assert.equal(
        missing.stderr,
        'error E_PROTO_DIR Proto directory proto/ does not exist.\nhint  Create it and put your .proto files there, or pass --proto-dir DIR.\n',
        command.join(' '),
      );
    }
  });
});

describe('cfg proto format', () => {
  test('--check fails on a badly formatted file with its place and the diff, changing nothing; format fixes it; --check then passes', async () => {
    const messy = SHOP.replace('message GetItemRequest {\n  string id = 1;\n}', 'message GetItemRequest{   string id=1;}');
    const p = await project({ 'proto/shop.proto': messy, 'proto/tidy.proto': 'syntax = "proto3";\n\npackage tidy.v1;\n' });
    const check = await p.run(['proto', 'format', '--check']);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /^proto\/shop\.proto:10:1: not formatted as buf format writes it \(FORMAT\)$/m);
    assert.doesNotMatch(check.stdout, /tidy\.proto:/);
    assert.match(check.stdout, /^-message GetItemRequest\{ {3}string id=1;\}$/m);
    assert.match(check.stdout, /^\+message GetItemRequest \{\n\+ {2}string id = 1;\n\+\}$/m);
    assert.equal(check.stderr, '✗ 1 file(s) not formatted: run cfg proto format to fix them\n');
    assert.equal(await p.read('proto/shop.proto'), messy, '--check changes nothing');

    const fix = await p.run(['proto', 'format']);
    assert.equal(fix.code, 0, fix.stderr);
    assert.equal(fix.stdout, 'formatted proto/shop.proto\n✓ 2 file(s), 1 rewritten\n');
    assert.equal(await p.read('proto/shop.proto'), SHOP);

    const again = await p.run(['proto', 'format', '--check']);
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.stdout, '✓ 2 file(s) formatted as buf format writes them\n');
  });
});
