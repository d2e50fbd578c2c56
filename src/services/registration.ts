import type { Access } from '../call/access.ts';
import type { Db } from '../db/client.ts';
import type { EventChannel } from '../events/channel.ts';
import type { ServiceDefinition, ServiceImplementation } from './types.ts';

/** The server a `grpcHandlers(server)` function receives (null in discovery mode). */
export interface ServiceRegistrar {
  /** Registers one service: its generated definition and an instance of its class. */
  addService<D extends ServiceDefinition>(definition: D, implementation: ServiceImplementation<D>): void;
  /**
   * The server's database handle, which every BaseService registered here gets as `this.db`
   * (unless it was constructed with one); for services that take it in their constructor.
   */
  readonly db?: Db;
  /** The server's event channel, which every BaseService registered here gets as `this.events`. */
  readonly events?: EventChannel;
}

/** The guide's add_XServicer_to_server: registers an instance of the class on a server. */
export type AddToServer = ((implementation: object, server: ServiceRegistrar) => void) & {
  readonly definition: ServiceDefinition;
};

/** The statics by which a class says who may call its methods (BaseService documents them). */
export interface AccessDeclarations {
  readonly access?: Readonly<Record<string, Access>>;
  readonly publicMethods?: readonly string[];
  readonly requireAuth?: boolean;
}

/** A service class cfg can instantiate with no arguments. */
export type ServiceClass = (new () => object) & AccessDeclarations;

/** One entry of what `grpcHandlers` returns: the guide's (service_class, add_to_server_func) tuple. */
export type ServiceRegistration = readonly [ServiceClass, AddToServer];

/** The export every app's grpc_services module provides. May be async (for lazy imports). */
export type GrpcHandlers = (server: ServiceRegistrar | null) => readonly ServiceRegistration[] | Promise<readonly ServiceRegistration[]>;

/**
 * The TypeScript counterpart of `add_CryptoServiceServicer_to_server`:
 * `addToServer(CryptoServiceService)` returns the function that registers a CryptoService
 * instance. Its `definition` lets cfg list the methods without a server.
 */
export function addToServer<D extends ServiceDefinition>(definition: D): AddToServer {
  const add = (implementation: object, server: ServiceRegistrar) =>
    server.addService(definition, implementation as ServiceImplementation<D>);
  return Object.assign(add, { definition });
}

/**
 * A type-checked registration tuple: the class must implement every RPC of the definition.
 * `return [registration(CryptoServiceService, CryptoService)]`
 */
export function registration<D extends ServiceDefinition>(
  definition: D,
  serviceClass: (new () => ServiceImplementation<D>) & AccessDeclarations,
): ServiceRegistration {
  return [serviceClass as ServiceClass, addToServer(definition)];
}
