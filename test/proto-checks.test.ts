// `cfg proto lint`, `cfg proto format [--check]` and `cfg proto breaking --against REF`, run as a
// user runs them, with the real buf and real git in temporary projects and repositories: each
// finding is file:line:column with its rule and makes the exit code 1; buf.yaml decides the
// rules; breaking catches what breaks deployed clients against an earlier commit and lets an
// added field through; a failure of buf or git is one line with its code and what to do.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bareProject, REPO, type Project } from './fixtures/project.ts';
import { SHOP } from './fixtures/shop-proto.ts';


const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

/** A project with the given files and no cfg.config.ts (cfg's defaults), ready to be a git repository. */
async function project(files: Record<string, string>): Promise<Project> {
  const p = await bareProject({ '.gitignore': 'node_modules\n', ...files }, 'cfg-proto-');
  projects.push(p);
  return p;
}

function git(p: Project, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-c', 'user.name=cfg test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: p.root }, (err, stdout, stderr) =>
      err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

/** A git repository whose first commit holds `files` (branch main). */
async function repo(files: Record<string, string>): Promise<Project> {
  const p = await project(files);
  await git(p, 'init', '-q', '-b', 'main');
  await git(p, 'add', '-A');
  await git(p, 'commit', '-q', '-m', 'first');
  return p;
}

describe('cfg proto lint', () => {
  test('a seeded violation: file:line:column, the message and the rule, exit 1; the same file fixed is clean, exit 0', async () => {
    const p = await project({ 'proto/shop.proto': SHOP.replace('string name = 2;', 'string ItemName = 2;') });
    const bad = await p.run(['proto', 'lint']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, 'proto/shop.proto:16:10: Field name "ItemName" should be lower_snake_case, such as "item_name". (FIELD_LOWER_SNAKE_CASE)\n');
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
    assert.match(defaults.stdout, /^proto\/crypto_service\.proto:6:1: Package name "crypto" should be suffixed with a correctly formed version, such as "crypto\.v1"\. \(PACKAGE_VERSION_SUFFIX\)$/m);
    assert.match(defaults.stdout, /^proto\/crypto_service\.proto:12:40: RPC response type "CoinResponse" should be named "GetCoinResponse" or "CryptoServiceGetCoinResponse"\. \(RPC_RESPONSE_STANDARD_NAME\)$/m);
    assert.match(defaults.stdout, /\(RPC_REQUEST_RESPONSE_UNIQUE\)$/m);
    assert.deepEqual(new Set([...defaults.stdout.matchAll(/\((\w+)\)$/gm)].map((m) => m[1])), new Set(['PACKAGE_VERSION_SUFFIX', 'RPC_REQUEST_RESPONSE_UNIQUE', 'RPC_RESPONSE_STANDARD_NAME']));
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
      assert.equal(missing.stderr, 'error E_PROTO_DIR Proto directory proto/ does not exist.\nhint  Create it and put your .proto files there, or pass --proto-dir DIR.\n', command.join(' '));
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

describe('cfg proto breaking', () => {
  test('against an earlier commit: a renumbered field, a removed RPC and a changed field type are each found; an added field passes', async () => {
    const p = await repo({ 'proto/shop.proto': SHOP });
    // An added field, committed: no breaking change against the commit before.
    await p.write('proto/shop.proto', SHOP.replace('int64 price_cents = 3;', 'int64 price_cents = 3;\n  string description = 4;'));
    await git(p, 'commit', '-q', '-am', 'add a field');
    const added = await p.run(['proto', 'breaking', '--against', 'HEAD~1']);
    assert.equal(added.code, 0, added.stdout + added.stderr);
    assert.match(added.stdout, /^✓ proto\/: no breaking change against HEAD~1 \([0-9a-f]{12}\) under cfg's default rules\n$/);

    const changes: Array<[string, string, RegExp]> = [
      ['a renumbered field', SHOP.replace('string name = 2;', 'string name = 5;'), /^proto\/shop\.proto:14:1: Previously present field "2" with name "name" on message "GetItemResponse" was deleted without reserving the number "2"\. \(FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED\)$/m],
      ['a removed RPC', SHOP.replace('  rpc DeleteItem(DeleteItemRequest) returns (DeleteItemResponse);\n', ''), /^proto\/shop\.proto:5:1: Previously present RPC "DeleteItem" on service "ShopService" was deleted\. \(RPC_NO_DELETE\)$/m],
      ['a changed field type', SHOP.replace('int64 price_cents = 3;', 'string price_cents = 3;'), /^proto\/shop\.proto:17:3: Field "3" with name "price_cents" on message "GetItemResponse" changed type from "int64" to "string"\..* \(FIELD_WIRE_JSON_COMPATIBLE_TYPE\)$/m],
    ];
    const first = await git(p, 'rev-parse', 'HEAD~1');
    for (const [what, text, expected] of changes) {
      // Uncommitted, as in a working copy before the commit CI would refuse.
      await p.write('proto/shop.proto', text);
      const r = await p.run(['proto', 'breaking', '--against', first]);
      assert.equal(r.code, 1, `${what}: ${r.stdout}`);
      assert.match(r.stdout, expected, what);
      assert.match(r.stderr, new RegExp(`^✗ \\d+ breaking change\\(s\\) in proto/ against ${first} \\(${first.slice(0, 12)}\\) under cfg's default rules\\n$`), what);
    }
  });

  test('without --against: the last tag, else main; a ref with no protos has nothing to break', async () => {
    const p = await repo({ 'README.md': 'no protos yet\n' });
    await p.write('proto/shop.proto', SHOP);
    await git(p, 'add', '-A');
    await git(p, 'commit', '-q', '-m', 'protos');
    await git(p, 'checkout', '-q', '-b', 'feature');
    await p.write('proto/shop.proto', SHOP.replace('  rpc DeleteItem(DeleteItemRequest) returns (DeleteItemResponse);\n', ''));

    const main = await p.run(['proto', 'breaking']);
    assert.equal(main.code, 1);
    assert.match(main.stderr, /against main \(/);
    assert.match(main.stdout, /\(RPC_NO_DELETE\)$/m);

    await git(p, 'tag', 'v0.1.0', 'HEAD~1');
    const tagged = await p.run(['proto', 'breaking']);
    assert.equal(tagged.code, 0, tagged.stdout + tagged.stderr);
    assert.match(tagged.stdout, /^✓ v0\.1\.0 \([0-9a-f]{12}\) has no \.proto files in proto\/: nothing to break, every proto is new\n$/);
  });

  test('git cannot answer: not a repository, an unknown ref, no git at all; each one line with its code and what to do', async () => {
    const plain = await project({ 'proto/shop.proto': SHOP });
    const notRepo = await plain.run(['proto', 'breaking', '--against', 'main']);
    assert.equal(notRepo.code, 1);
    assert.match(notRepo.stderr, /^error E_GIT .* is not inside a git repository, so there is no earlier version to compare with\.\nhint {2}Run cfg proto breaking in a git clone of the project .*\n$/);

    const p = await repo({ 'proto/shop.proto': SHOP });
    const unknown = await p.run(['proto', 'breaking', '--against', 'no-such-branch']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error E_GIT git ref "no-such-branch" names no commit in .*\.\nhint {2}Pass --against a branch, tag or commit that exists here .*\n$/);

    const noGit = await p.run(['proto', 'breaking', '--against', 'main'], { PATH: join(p.root, 'no-bin') });
    assert.equal(noGit.code, 1);
    assert.match(noGit.stderr, /^error E_GIT git is not installed \(no git on PATH\): cfg proto breaking reads the earlier protos from git\.\nhint {2}Install git .*\n$/);
  });
});
