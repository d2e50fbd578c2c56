import type { DescMessage } from '@bufbuild/protobuf';
import { protobuf } from '../../proto/protobuf.ts';
import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { builtinFiles, registryOf } from '../../proto/descriptors.ts';
import type { ServiceDefinition } from '../types.ts';
import type { ServiceHost } from '../host.ts';

const { create, fromBinary, toBinary } = protobuf;

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

export interface HealthHandle {
  /** Sets one service's status ("" is the whole server) and tells its watchers. */
  set(service: string, status: ServingStatus): void;
  /** Sets "" and every served service. */
  setAll(status: ServingStatus): void;
}

const CODE = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
type Request = { service: string };
type Response = { status: number };

function codec(desc: DescMessage) {
  return {
    serialize: (value: object) => Buffer.from(toBinary(desc, create(desc, value as never))),
    deserialize: (bytes: Buffer) => fromBinary(desc, bytes) as unknown,
  };
}

/** The grpc.health.v1.Health definition, its messages encoded from the built-in descriptors. */
function healthDefinition(): ServiceDefinition {
  const registry = registryOf(builtinFiles());
  const req = codec(registry.getMessage('grpc.health.v1.HealthCheckRequest')!);
  const res = codec(registry.getMessage('grpc.health.v1.HealthCheckResponse')!);
  const method = (name: string, responseStream: boolean) => ({
    path: `/grpc.health.v1.Health/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: req.serialize,
    requestDeserialize: req.deserialize,
    responseSerialize: res.serialize,
    responseDeserialize: res.deserialize,
  });
  return { check: method('Check', false), watch: method('Watch', true) };
}

/**
 * The standard health service: Check and Watch for "" and each served service. Statuses start
 * NOT_SERVING and turn SERVING once start-up is done; when shutdown begins every status turns
 * NOT_SERVING, watchers are told, and their streams are ended so they cannot hold shutdown open.
 */
export function addHealthService(server: ServiceHost): HealthHandle {
  const statuses = new Map<string, number>();
  const watchers = new Map<string, Set<ServerWritableStream<Request, Response>>>();
  const notify = (service: string) => {
    const code = statuses.get(service) ?? CODE.SERVICE_UNKNOWN;
    for (const call of watchers.get(service) ?? []) call.write({ status: code });
  };
  const set = (service: string, s: ServingStatus) => {
    if (statuses.get(service) === CODE[s]) return;
    if (s === 'SERVING' && server.isShuttingDown) return; // NOT_SERVING is final once shutdown begins
    statuses.set(service, CODE[s]);
    notify(service);
  };
  const names = () => ['', ...server.services.filter((x) => !x.builtin).map((x) => x.name)];
  for (const name of names()) statuses.set(name, CODE.NOT_SERVING);

  server.addBuiltinService('grpc.health.v1.Health', healthDefinition(), {
    check(call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) {
      const code = statuses.get(call.request.service);
      if (code === undefined) callback({ code: status.NOT_FOUND, details: `unknown service ${JSON.stringify(call.request.service)}` });
      else callback(null, { status: code });
    },
    watch(call: ServerWritableStream<Request, Response>) {
      const service = call.request.service;
      const code = statuses.get(service);
      if (server.isShuttingDown) {
        // Arrived after shutdown began: the answer is final, and an open stream would hold shutdown up.
        call.write({ status: code === undefined ? CODE.SERVICE_UNKNOWN : CODE.NOT_SERVING });
        call.end();
        return;
      }
      let set = watchers.get(service);
      if (!set) watchers.set(service, (set = new Set()));
      set.add(call);
      const forget = () => set!.delete(call);
      call.on('cancelled', forget);
      call.on('finish', forget);
      call.on('error', forget);
      call.write({ status: code ?? CODE.SERVICE_UNKNOWN });
    },
  });
  server.onShutdown(() => {
    for (const name of statuses.keys()) set(name, 'NOT_SERVING');
    for (const calls of watchers.values()) for (const call of calls) call.end();
    watchers.clear();
  });
  return {
    set,
    setAll(s) {
      for (const name of names()) set(name, s);
    },
  };
}
