// `cfg generate-proto`, run as a user runs it (bin/cfg.js in a temp project): where protos come
// from and stubs go (--proto-dir/--output-dir, the config, a subfolder), rungrpc's staleness check,
// and --watch. (Stubs, determinism and errors: generate-proto.test.ts.)
import assert from 'node:assert/strict';
import { mkdir, rm, utimes } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { stubsAreStale } from '../src/proto/generate.ts';
import { configText, Project } from './fixtures/project.ts';
import { assertSameFiles, CLOCK, GREETER, project, snapshot } from './support/proto-project.ts';

describe('where protos come from and stubs go', () => {
  test('--proto-dir and --output-dir, relative to where cfg runs', async () => {
    const p = await project({ 'api/protos/greeter.proto': GREETER });
    const run = await p.run(['generate-proto', '--proto-dir', 'api/protos', '--output-dir', 'build/stubs']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /-> build\/stubs\/ /);
    assert.ok((await snapshot(p.path('build', 'stubs'))).has('greeter.ts'));
    assert.equal((await snapshot(p.path('generated'))).size, 0);

    await mkdir(p.path('work'));
    const fromWork = await new Project(p.path('work')).run(['generate-proto', '--proto-dir', '../api/protos', '--output-dir', 'out']);
    assert.equal(fromWork.code, 0, fromWork.stderr);
    assert.ok((await snapshot(p.path('work', 'out'))).has('greeter.ts'));
  });

  test('grpc.proto.protoDir/outputDir from cfg.config.ts, relative to the project root even from a subfolder; flags win', async () => {
    const p = await project({
      'cfg.config.ts': configText({ grpc: { proto: { protoDir: 'schemas', outputDir: 'src/stubs' } } }),
      'schemas/greeter.proto': GREETER,
      'other/clock.proto': CLOCK,
      'apps/crypto/.keep': '',
    });
    const sub = new Project(p.path('apps', 'crypto'));
    const fromSub = await sub.run(['generate-proto']);
    assert.equal(fromSub.code, 0, fromSub.stderr);
    assert.match(fromSub.stdout, /-> \.\.\/\.\.\/src\/stubs\//);
    assert.ok((await snapshot(p.path('src', 'stubs'))).has('greeter.ts'));

    const flags = await p.run(['generate-proto', '--proto-dir', 'other']);
    assert.equal(flags.code, 0, flags.stderr);
    const stubs = await snapshot(p.path('src', 'stubs'));
    assert.ok(
      stubs.has('clock.ts') && !stubs.has('greeter.ts'),
      'the flag replaced the proto dir; the output dir still comes from the config',
    );
  });
});

describe("stubsAreStale (rungrpc's auto-generation check)", () => {
  test('fresh after generation; stale when a proto is newer, added or removed', async () => {
    const p = await project({ 'proto/greeter.proto': GREETER });
    const [protoDir, outputDir] = [p.path('proto'), p.path('generated')];
    assert.equal(await stubsAreStale(protoDir, outputDir), true, 'never generated');
    assert.equal((await p.run(['generate-proto'])).code, 0);
    assert.equal(await stubsAreStale(protoDir, outputDir), false);

    const later = new Date(Date.now() + 60_000);
    await utimes(p.path('proto', 'greeter.proto'), later, later);
    assert.equal(await stubsAreStale(protoDir, outputDir), true, 'a proto changed after generation');
    assert.equal((await p.run(['generate-proto'])).code, 0);
    const past = new Date(Date.now() - 60_000);
    await utimes(p.path('proto', 'greeter.proto'), past, past);

    await p.write('proto/clock.proto', CLOCK);
    await utimes(p.path('proto', 'clock.proto'), past, past);
    assert.equal(await stubsAreStale(protoDir, outputDir), true, 'a proto added (even with an old mtime)');
    assert.equal((await p.run(['generate-proto'])).code, 0);
    assert.equal(await stubsAreStale(protoDir, outputDir), false);
    await rm(p.path('proto', 'clock.proto'));
    assert.equal(await stubsAreStale(protoDir, outputDir), true, 'a proto removed');
  });
});

describe('--watch', () => {
  test('regenerates on each change, one line per run with its time, and survives a broken file until it is fixed', async () => {
    const p = await project({ 'proto/greeter.proto': GREETER });
    const watch = p.spawn(['generate-proto', '--watch']);
    try {
      await watch.waitFor('stdout', /watching proto\/ for \.proto changes/);
      const line = /^\d\d:\d\d:\d\d (?:greeter\.proto changed: )?generated 1 proto file\(s\) -> generated\/ \(2 files\) in \d+ ms$/m;
      await watch.waitFor('stdout', line, 1);

      await p.write('proto/greeter.proto', GREETER.replace('string message = 1;', 'string message = 1;\n  int32 count = 2;'));
      await watch.waitFor(
        'stdout',
        /^\d\d:\d\d:\d\d greeter\.proto changed: generated 1 proto file\(s\) -> generated\/ \(2 files\) in \d+ ms$/m,
        1,
      );
      assert.match(await p.read('generated/greeter.ts'), /count: number;/);

      const good = await snapshot(p.path('generated'));
      await p.write('proto/greeter.proto', GREETER.replace('string name = 1;', 'strin name = 1;'));
      await watch.waitFor(
        'stderr',
        /^\d\d:\d\d:\d\d greeter\.proto changed: failed in \d+ ms: proto\/greeter\.proto:10:3:.*strin.* \(generated\/ left as it was; waiting for a fix\)$/m,
      );
      assert.ok(watch.running, 'still watching after a broken file');
      assertSameFiles(await snapshot(p.path('generated')), good);

      await p.write('proto/greeter.proto', GREETER);
      await watch.waitFor('stdout', /^\d\d:\d\d:\d\d greeter\.proto changed: generated 1 proto file\(s\)/m, 2);
      assert.doesNotMatch(await p.read('generated/greeter.ts'), /count: number;/);
      assert.equal(watch.stderr.split('\n').filter(Boolean).length, 1, `one line for the failed run:\n${watch.stderr}`);

      // A proto added, then removed: its stubs come, then go.
      await p.write('proto/clock.proto', CLOCK);
      await watch.waitFor(
        'stdout',
        /^\d\d:\d\d:\d\d clock\.proto changed: generated 2 proto file\(s\) -> generated\/ \(5 files\) in \d+ ms$/m,
      );
      assert.ok((await snapshot(p.path('generated'))).has('clock.ts'));
      await rm(p.path('proto', 'clock.proto'));
      await watch.waitFor(
        'stdout',
        /^\d\d:\d\d:\d\d clock\.proto changed: generated 1 proto file\(s\) -> generated\/ \(2 files\) in \d+ ms$/m,
      );
      assert.deepEqual([...(await snapshot(p.path('generated'))).keys()].sort(), [
        '.proto-manifest.json',
        'descriptors.binpb',
        'greeter.ts',
      ]);

      watch.kill('SIGTERM');
      assert.deepEqual(await watch.exited, { code: 0, signal: null });
    } finally {
      await watch.stop();
    }
  });

  test('a missing proto dir: nothing to watch, non-zero exit', async () => {
    const p = await project({});
    const { code, stderr } = await p.run(['generate-proto', '--watch']);
    assert.equal(code, 1);
    assert.match(stderr, /^error E_PROTO_DIR Proto directory proto\/ does not exist: nothing to watch\./);
  });
});
