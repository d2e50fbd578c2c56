import { ReflectionService } from '@grpc/reflection';
import { appFiles, builtinFiles, fileBytes, uniqueFiles } from '../proto/descriptors.ts';
import type { CfgServer } from './cfg-server.ts';

/**
 * grpc.reflection v1 and v1alpha, for grpcurl and other strict clients. @grpc/reflection is given
 * buf's own FileDescriptorProtos, one per file, with their dependency lists and fully qualified
 * type names intact (what it builds from proto-loader drops both: grpc-node issue 2595), plus the
 * descriptors of health and reflection, so `list` and `describe` cover every served service.
 */
export async function addReflectionService(server: CfgServer, generatedDir: string): Promise<void> {
  const files = uniqueFiles(appFiles(generatedDir), builtinFiles());
  const packageDefinition = { cfg: { fileDescriptorProtos: fileBytes(files) } };
  const reflection = new ReflectionService(packageDefinition as never);
  reflection.addToServer(server.grpc as never);
}
