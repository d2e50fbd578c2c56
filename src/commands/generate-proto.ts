import { relative, resolve } from 'node:path';
import { Command } from 'commander';
import kleur from 'kleur';

export interface GenerateProtoOptions {
  protoDir?: string;
  outputDir?: string;
  watch?: boolean;
  es?: boolean;
}

/** cfg generate-proto: buf + ts-proto over proto/ into generated/. */
export function generateProtoCommand(): Command {
  return new Command('generate-proto')
    .description(
      'Generate typed messages, @grpc/grpc-js service definitions and clients, and the reflection descriptor set from .proto files',
    )
    .option('--proto-dir <dir>', 'folder holding the .proto files (default: grpc.proto.protoDir, "proto")')
    .option('--output-dir <dir>', 'folder receiving the stubs and descriptors.binpb (default: grpc.proto.outputDir, "generated")')
    .option(
      '--es',
      'also emit ECMAScript messages and service descriptors for browsers (protoc-gen-es) into <output-dir>/es/, for @connectrpc/connect-web (default: grpc.proto.es)',
    )
    .option('--no-es', 'do not emit them, whatever grpc.proto.es says')
    .option('--watch', 'generate, then regenerate on every .proto change until Ctrl-C; a broken file is reported and waited out')
    .action(async (opts: GenerateProtoOptions) => {
      const { loadConfig } = await import('../config/load.ts');
      const config = await loadConfig();
      // A flag is relative to where cfg runs; a config value to the project root.
      const cwd = process.cwd();
      const target = {
        protoDir: opts.protoDir !== undefined ? resolve(cwd, opts.protoDir) : resolve(config.root, config.grpc.proto.protoDir),
        outputDir: opts.outputDir !== undefined ? resolve(cwd, opts.outputDir) : resolve(config.root, config.grpc.proto.outputDir),
        cwd,
        es: opts.es ?? config.grpc.proto.es,
      };
      if (opts.watch) {
        const { watchProto } = await import('../proto/watch.ts');
        await watchProto({ ...target, root: config.root });
        return;
      }
      const { generateProto } = await import('../proto/generate.ts');
      const result = await generateProto(target);
      const out = relative(cwd, target.outputDir) || '.';
      const es = target.es ? ` and browser clients -> ${out}/es/` : '';
      process.stdout.write(
        `${kleur.green('generated')} ${result.protoFiles.length} proto file(s) -> ${out}/ (${result.written.length} files)${es} in ${result.ms} ms\n`,
      );
    });
}
