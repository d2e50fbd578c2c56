import { Command } from 'commander';
import kleur from 'kleur';

/** cfg generate-proto: buf + ts-proto over proto/ into generated/. */
export function generateProtoCommand(): Command {
  return new Command('generate-proto')
    .description('Generate typed @grpc/grpc-js stubs and the reflection descriptor set from .proto files')
    .option('--proto-dir <dir>', 'folder holding the .proto files (default: grpc.proto.protoDir, "proto")')
    .option('--output-dir <dir>', 'folder receiving the stubs (default: grpc.proto.outputDir, "generated")')
    .option('--watch', 'regenerate on every change until stopped')
    .action(async (opts: { protoDir?: string; outputDir?: string; watch?: boolean }) => {
      const { loadConfig } = await import('../config/load.ts');
      const { generateProto } = await import('../proto/generate.ts');
      const config = await loadConfig({ required: false });
      const target = {
        protoDir: opts.protoDir ?? config.grpc.proto.protoDir,
        outputDir: opts.outputDir ?? config.grpc.proto.outputDir,
        cwd: opts.protoDir || opts.outputDir ? process.cwd() : config.root,
      };
      if (opts.watch) {
        const { watchProto } = await import('../proto/watch.ts');
        await watchProto(target);
        return;
      }
      const result = await generateProto(target);
      process.stdout.write(
        `${kleur.green('generated')} ${result.protoFiles.length} proto file(s) -> ${target.outputDir} (${result.written.length} files, ${result.ms} ms)\n`,
      );
    });
}
