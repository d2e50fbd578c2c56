import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { MethodInfo } from '../call/method.ts';
import type { ServiceDefinition } from './types.ts';

/** A service as served: its full name and methods. */
export interface ServedService {
  readonly name: string;
  readonly className: string;
  readonly methods: readonly MethodInfo[];
  /** Served outside the interceptor chain (health, reflection). */
  readonly builtin: boolean;
  /** The class sets static requireAuth (AuthRequiredService): cfg will not serve it with auth off. */
  readonly requireAuth: boolean;
}

/**
 * What the built-in services (health, reflection) and the HTTP side port need of the server that
 * hosts them. The server implements it; they import this, never the server, so the layers point
 * down (services -> server would be a cycle).
 */
export interface ServiceHost {
  /** Every service served, app and built-in, in registration order. */
  readonly services: readonly ServedService[];
  readonly isShuttingDown: boolean;
  /** Runs when shutdown begins (health turns NOT_SERVING, watchers end). */
  onShutdown(hook: () => void | Promise<void>): void;
  /** Registers a framework service directly on the transport, outside the interceptor chain. */
  addBuiltinService(name: string, definition: ServiceDefinition, implementation: UntypedServiceImplementation): void;
}
