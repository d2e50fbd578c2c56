// A grpc.health.v1 client for tests: Check by service name, answering the status number
// (1 SERVING, 2 NOT_SERVING) or the call's error.
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';
import { builtinFiles } from '../../src/proto/descriptors.ts';

const reg = createFileRegistry({ $typeName: 'google.protobuf.FileDescriptorSet', file: builtinFiles() } as never);
const Req = reg.getMessage('grpc.health.v1.HealthCheckRequest')!;
const Res = reg.getMessage('grpc.health.v1.HealthCheckResponse')!;
/** The grpc.health.v1.Health client class (Check only), its messages encoded from cfg's built-in descriptors. */
export const Health = makeGenericClientConstructor(
  {
    check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: (m: unknown) => Buffer.from(toBinary(Req, create(Req, m as never))),
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (m: unknown) => m as Buffer,
      responseDeserialize: (b: Buffer) => fromBinary(Res, b) as unknown as { status: number },
    },
  },
  'Health',
);

export const SERVING = 1;
export const NOT_SERVING = 2;

export function healthClient(port: number): { check(service?: string): Promise<number | ServiceError>; close(): void } {
  const client = new Health(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as Client & {
    check(r: { service: string }, cb: (e: ServiceError | null, v: { status: number }) => void): void;
  };
  return {
    check: (service = '') => new Promise((resolve) => client.check({ service }, (e, v) => resolve(e ?? v.status))),
    close: () => client.close(),
  };
}
