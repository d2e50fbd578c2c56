// grpc.health.v1 on `cfg rungrpc`: Check for "" and each service (SERVING once started, NOT_FOUND
// for an unknown name), Watch streams the status, and on SIGTERM a watcher sees NOT_SERVING, its
// stream ends, and the server still exits 0 with the watch open.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { credentials, makeGenericClientConstructor, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { builtinFiles } from '../src/proto/descriptors.ts';
import { makeProject, type CfgProcess, type Project } from './fixtures/project.ts';

const reg = createFileRegistry({ $typeName: 'google.protobuf.FileDescriptorSet', file: builtinFiles() } as never);
const Req = reg.getMessage('grpc.health.v1.HealthCheckRequest')!;
const Res = reg.getMessage('grpc.health.v1.HealthCheckResponse')!;
const method = (name: string, responseStream: boolean) => ({
  path: `/grpc.health.v1.Health/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: (m: unknown) => Buffer.from(toBinary(Req, create(Req, m as never))),
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (m: unknown) => m as Buffer,
  responseDeserialize: (b: Buffer) => fromBinary(Res, b) as unknown as { status: number },
});
const Health = makeGenericClientConstructor({ check: method('Check', false), watch: method('Watch', true) }, 'Health');
type HealthClient = Client & {
  check(r: { service: string }, cb: (e: ServiceError | null, v: { status: number }) => void): void;
  watch(r: { service: string }): NodeJS.EventEmitter;
};

let project: Project;
let proc: CfgProcess;
let client: HealthClient;

before(async () => {
  project = await makeProject({ apps: ['greeter'], config: { grpc: { server: { enableHealthCheck: true, enableReflection: false } } } });
  proc = project.spawn(['rungrpc']);
  client = new Health(`127.0.0.1:${await proc.port()}`, credentials.createInsecure()) as unknown as HealthClient;
});
after(async () => {
  client?.close();
  await proc?.stop();
  await project?.remove();
});

const check = (service: string) =>
  new Promise<{ status: number } | ServiceError>((resolve) => client.check({ service }, (e, v) => resolve(e ?? v)));

test('Check: "" and the app service are SERVING; an unknown service is NOT_FOUND', async () => {
  assert.equal(((await check('')) as { status: number }).status, 1);
  assert.equal(((await check('fixture.Greeter')) as { status: number }).status, 1);
  assert.equal(((await check('no.Such')) as ServiceError).code, status.NOT_FOUND);
});

test('Watch: SERVING first, NOT_SERVING when shutdown begins, then the stream ends and the process exits 0', async () => {
  const seen: number[] = [];
  const unknown: number[] = [];
  const watch = client.watch({ service: '' });
  const other = client.watch({ service: 'no.Such' });
  other.on('data', (m: { status: number }) => unknown.push(m.status));
  other.on('error', () => {});
  // The server ends the stream itself; held open, it would be cancelled at the grace period ('error').
  const ended = new Promise<string>((resolve) => {
    watch.on('data', (m: { status: number }) => seen.push(m.status));
    watch.on('end', () => resolve('end'));
    watch.on('error', (e: Error) => resolve(e.message));
  });
  for (let i = 0; i < 200 && (seen.length === 0 || unknown.length === 0); i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(seen, [1]);
  assert.deepEqual(unknown, [3], 'SERVICE_UNKNOWN for a name the server does not serve');
  proc.kill('SIGTERM');
  assert.equal(await ended, 'end');
  assert.deepEqual(seen, [1, 2]);
  const { code } = await proc.exited;
  assert.equal(code, 0);
});
