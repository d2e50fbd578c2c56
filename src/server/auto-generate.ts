import { join } from 'node:path';
import type { CfgConfig } from '../config/types.ts';
import { getLogger } from '../log/logger.ts';

const log = getLogger('grpc.server');

/**
 * grpc.proto.autoGenerate: regenerates the stubs when a .proto is newer than generated/. The one
 * copy of this step: start runs it for a single process, the cluster primary once for all its
 * workers (workers generating into one folder at the same time would trip over each other).
 */
export async function autoGenerateStubs(config: CfgConfig): Promise<void> {
  const { protoDir, outputDir, autoGenerate, es } = config.grpc.proto;
  if (!autoGenerate) return;
  const { generateProto, stubsAreStale } = await import('../proto/generate.ts');
  if (!(await stubsAreStale(join(config.root, protoDir), join(config.root, outputDir), es))) return;
  const result = await generateProto({ protoDir, outputDir, cwd: config.root, es });
  log.info(`generated stubs from ${result.protoFiles.length} proto file(s) in ${result.ms} ms`);
}
