import { readFileSync } from 'node:fs';
import { protobuf, wkt } from '../proto/protobuf.ts';
import { CfgError } from '../errors.ts';

const { fromBinary } = protobuf;
const { FileDescriptorSetSchema, MethodOptions_IdempotencyLevel } = wkt;

/**
 * The methods a descriptor set (generated/descriptors.binpb, written by `cfg generate-proto`)
 * marks `option idempotency_level = NO_SIDE_EFFECTS` or `IDEMPOTENT`, as paths
 * (`/crypto.CryptoService/GetCoin`): the methods a client may send twice.
 */
export function idempotentMethods(descriptorSetPath: string | URL): Set<string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(descriptorSetPath);
  } catch (err) {
    throw new CfgError(
      'E_STUBS_MISSING',
      `${String(descriptorSetPath)} cannot be read: ${(err as Error).message}`,
      'Generate it: cfg generate-proto',
      { cause: err },
    );
  }
  const paths = new Set<string>();
  for (const file of fromBinary(FileDescriptorSetSchema, bytes).file) {
    const pkg = file.package ? `${file.package}.` : '';
    for (const service of file.service) {
      for (const method of service.method) {
        const level = method.options?.idempotencyLevel ?? MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN;
        if (level !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN) paths.add(`/${pkg}${service.name}/${method.name}`);
      }
    }
  }
  return paths;
}
