// Builds src/proto/builtin/builtin.binpb: the FileDescriptorSet of the services cfg itself serves
// (grpc.health.v1, and grpc.reflection v1 and v1alpha from @grpc/reflection's own protos), so that
// reflection describes them like any app service. Run after changing those protos:
//   node --import tsx scripts/build-builtin-protos.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bufCommand } from '../src/proto/tools.ts';

const require = createRequire(import.meta.url);
const root = new URL('..', import.meta.url).pathname;
const reflectionProtos = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto');
const work = mkdtempSync(join(tmpdir(), 'cfg-builtin-'));
const build = (dir: string, paths: string[], out: string) =>
  execFileSync(
    bufCommand().file,
    [
      ...bufCommand().args,
      'build',
      '.',
      ...paths.flatMap((p) => ['--path', p]),
      '--as-file-descriptor-set',
      '--exclude-source-info',
      '-o',
      out,
    ],
    { cwd: dir },
  );
try {
  build(join(root, 'src/proto/builtin'), ['grpc/health/v1/health.proto'], join(work, 'health.binpb'));
  build(
    reflectionProtos,
    ['grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'],
    join(work, 'reflection.binpb'),
  );
  // A FileDescriptorSet is one repeated field: two serialized sets concatenated are their union.
  writeFileSync(
    join(root, 'src/proto/builtin/builtin.binpb'),
    Buffer.concat([readFileSync(join(work, 'health.binpb')), readFileSync(join(work, 'reflection.binpb'))]),
  );
  console.log('wrote src/proto/builtin/builtin.binpb');
} finally {
  rmSync(work, { recursive: true, force: true });
}
