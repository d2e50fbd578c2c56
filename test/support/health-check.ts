// grpc.health.v1.Health/Check against a running server, for the tests that watch health change.
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
import { builtinFiles } from '../../src/proto/descriptors.ts';

/** The overall status: 1 SERVING, 2 NOT_SERVING. */
export function healthCheck(address: string): Promise<number> {
  const reg = createFileRegistry({ $typeName: 'google.protobuf.FileDescriptorSet', file: builtinFiles() } as never);
  const Req = reg.getMessage('grpc.health.v1.HealthCheckRequest')!;
  const Res = reg.getMessage('grpc.health.v1.HealthCheckResponse')!;
  const Ctor = makeGenericClientConstructor(
    {
      check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: unknown) => Buffer.from(toBinary(Req, create(Req, m as never))),
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (m: unknown) => m as Buffer,
        responseDeserialize: (b: Buffer) => fromBinary(Res, b),
      },
    },
    'H',
  );
  const c = new Ctor(address, credentials.createInsecure()) as unknown as {
    check(r: unknown, o: { deadline: Date }, cb: (e: Error | null, v: { status: number }) => void): void;
    close(): void;
  };
  return new Promise((resolve, reject) =>
    c.check({ service: '' }, { deadline: new Date(Date.now() + 10_000) }, (e, v) => {
      c.close();
      if (e) reject(e);
      else resolve(v.status);
    }),
  );
}

/** Health every 100 ms until stopped: every status seen (-1: no answer). */
export function watchHealth(address: string): { stop(): Promise<number[]> } {
  const seen: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      seen.push(await healthCheck(address).catch(() => -1));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return seen;
    },
  };
}
