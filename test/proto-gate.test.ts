// The repository's own contract gate, run by CI through `npm test`: its .proto files pass
// `cfg proto lint` and `cfg proto format --check`, and `cfg proto breaking` finds no change that
// would break a deployed client against the previous commit.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO } from './fixtures/project.ts';

function cfg(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'cfg.js'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 110_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The previous commit, or why there is none to compare with (not a clone, a single or shallow commit). */
function previousCommit(): { commit: string } | { none: string } {
  try {
    return { commit: execFileSync('git', ['rev-parse', '--verify', '--quiet', 'HEAD~1^{commit}'], { cwd: REPO, encoding: 'utf8' }).trim() };
  } catch {
    return { none: 'no previous commit here (not a git clone, or a clone of depth 1)' };
  }
}

test('proto/ passes cfg proto lint under buf.yaml', () => {
  const r = cfg('proto', 'lint');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^✓ proto\/: \d+ file\(s\) clean under buf\.yaml$/m);
});

test('proto/ is formatted as buf format writes it', () => {
  const r = cfg('proto', 'format', '--check');
  assert.equal(r.code, 0, r.out);
});

test('proto/ has no breaking change against the previous commit', (t) => {
  const previous = previousCommit();
  if ('none' in previous) {
    t.skip(previous.none);
    return;
  }
  const r = cfg('proto', 'breaking', '--against', 'HEAD~1');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`against HEAD~1 \\(${previous.commit.slice(0, 12)}\\)`));
});
