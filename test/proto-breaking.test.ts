// `cfg proto breaking --against REF` with the real buf and real git in temporary repositories:
// changes that break deployed clients (a renumbered field, a removed RPC, a changed field type)
// are found against an earlier commit, an added field passes; the default ref; git failing is one
// line with its code and what to do.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MINIMAL_CONFIG, bareProject, type Project } from './fixtures/project.ts';
import { SHOP } from './fixtures/shop-proto.ts';

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

/** A project with the given files and no cfg.config.ts (cfg's defaults), ready to be a git repository. */
async function project(files: Record<string, string>): Promise<Project> {
  const p = await bareProject({ '.gitignore': 'node_modules\n', 'cfg.config.ts': MINIMAL_CONFIG, ...files }, 'cfg-proto-');
  projects.push(p);
  return p;
}

function git(p: Project, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'user.name=cfg test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args],
      { cwd: p.root },
      (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim())),
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
      [
        'a renumbered field',
        SHOP.replace('string name = 2;', 'string name = 5;'),
        /^proto\/shop\.proto:14:1: Previously present field "2" with name "name" on message "GetItemResponse" was deleted without reserving the number "2"\. \(FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED\)$/m,
      ],
      [
        'a removed RPC',
        SHOP.replace('  rpc DeleteItem(DeleteItemRequest) returns (DeleteItemResponse);\n', ''),
        /^proto\/shop\.proto:5:1: Previously present RPC "DeleteItem" on service "ShopService" was deleted\. \(RPC_NO_DELETE\)$/m,
      ],
      [
        'a changed field type',
        SHOP.replace('int64 price_cents = 3;', 'string price_cents = 3;'),
        /^proto\/shop\.proto:17:3: Field "3" with name "price_cents" on message "GetItemResponse" changed type from "int64" to "string"\..* \(FIELD_WIRE_JSON_COMPATIBLE_TYPE\)$/m,
      ],
    ];
    const first = await git(p, 'rev-parse', 'HEAD~1');
    for (const [what, text, expected] of changes) {
      // Uncommitted, as in a working copy before the commit CI would refuse.
      await p.write('proto/shop.proto', text);
      const r = await p.run(['proto', 'breaking', '--against', first]);
      assert.equal(r.code, 1, `${what}: ${r.stdout}`);
      assert.match(r.stdout, expected, what);
      assert.match(
        r.stderr,
        new RegExp(`^✗ \\d+ breaking change\\(s\\) in proto/ against ${first} \\(${first.slice(0, 12)}\\) under cfg's default rules\\n$`),
        what,
      );
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
    assert.match(
      notRepo.stderr,
      /^error E_GIT .* is not inside a git repository, so there is no earlier version to compare with\.\nhint {2}Run cfg proto breaking in a git clone of the project .*\n$/,
    );

    const p = await repo({ 'proto/shop.proto': SHOP });
    const unknown = await p.run(['proto', 'breaking', '--against', 'no-such-branch']);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^error E_GIT git ref "no-such-branch" names no commit in .*\.\nhint {2}Pass --against a branch, tag or commit that exists here .*\n$/,
    );

    const noGit = await p.run(['proto', 'breaking', '--against', 'main'], { PATH: join(p.root, 'no-bin') });
    assert.equal(noGit.code, 1);
    assert.match(
      noGit.stderr,
      /^error E_GIT git is not installed \(no git on PATH\): cfg proto breaking reads the earlier protos from git\.\nhint {2}Install git .*\n$/,
    );
  });
});
