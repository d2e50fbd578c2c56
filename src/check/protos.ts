import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CfgConfig } from '../config/types.ts';
import type { Report } from './report.ts';

/**
 * The protos compile (buf build, nothing written): a syntax error is reported with buf's
 * file:line:column, as rungrpc reports it when it regenerates the stubs (E_PROTO_COMPILE).
 */
export async function checkProtos(cfg: CfgConfig, report: Report): Promise<void> {
  const { protoDir, outputDir } = cfg.grpc.proto;
  if (!existsSync(join(cfg.root, protoDir))) return; // the stubs step says so
  const { compileProtos } = await import('../proto/generate.ts');
  try {
    const { protoFiles } = await compileProtos({ protoDir, outputDir, cwd: cfg.root });
    report.good('protos', `${protoFiles.length} file(s) in ${protoDir}/ compile`);
  } catch (err) {
    report.fail('protos', err);
  }
}
