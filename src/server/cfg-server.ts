import { setMaxListeners } from 'node:events';
import { Server, type ChannelOptions, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { CfgError } from '../errors.ts';
import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import type { EventChannel } from '../events/channel.ts';
import type { Interceptor } from '../call/interceptor.ts';
import { getLogger } from '../log/logger.ts';
import type { ServiceRegistrar } from '../services/registration.ts';
import { provideDatabase, provideEvents } from '../services/base-service.ts';
import { declaredAccess, type AccessStatics } from '../services/declared-access.ts';
import type { ServiceDefinition, ServiceImplementation } from '../services/types.ts';
import type { ServedService, ServiceHost } from '../services/host.ts';
import { closeInterceptors } from '../interceptors/pipeline.ts';
import { createHandler } from '../transports/grpc/adapter.ts';
import { openGrpcListener, type GrpcListener } from '../transports/grpc/listener.ts';
import { listenError } from '../transports/listen.ts';
import { installRequestFrameCheck } from '../transports/grpc/request-frames.ts';
import { installResponseCompression } from '../transports/grpc/response-compression.ts';
import { measured } from '../transports/grpc/sizes.ts';
import { methodInfo, type MethodInfo } from '../call/method.ts';
import { bindMethod } from '../call/invoke.ts';
import { OpenStreams } from '../call/open-streams.ts';
import type { ServedMethod, WebListener } from '../transports/web/serve.ts';
import type { FileRegistry } from '@bufbuild/protobuf';

export interface CfgServerOptions {
  /** The chain every call of an app service crosses, outermost first (closed after shutdown drains). */
  interceptors?: readonly Interceptor[];
  /** Record serialized request/response sizes on each call context (the request log uses them). */
  measureSizes?: boolean;
  /**
   * The database handle of this server: every BaseService registered gets it as `this.db` (unless
   * it was given one), and handlersHook functions read it as `server.db`. The server does not
   * close it: whoever opened it does (startServer closes the one it opened when it stops).
   */
  db?: Db;
  /** The event channel of this server: every BaseService registered gets it as `this.events`. Closed by its owner. */
  events?: EventChannel;
}

const COMPRESSION = { none: 0, deflate: 1, gzip: 2 } as const;
const log = getLogger('grpc.server');

/**
 * The gRPC server cfg runs: a grpc-js Server plus cfg's call adapter and interceptor chain.
 * `listen()` resolves to the bound port (0 picks a free one); `shutdown()` drains in-flight
 * calls within the grace period; `forceShutdown()` cancels them.
 */
export class CfgServer implements ServiceRegistrar, ServiceHost {
  readonly grpc: Server;
  private readonly served: ServedService[] = [];
  private readonly abortAll = new AbortController();
  private readonly streams = new OpenStreams();
  private readonly shutdownHooks: Array<() => void | Promise<void>> = [];
  private shuttingDown: Promise<void> | undefined;
  private listener: GrpcListener | undefined;
  private web: WebListener | undefined;
  /** Every app method, bound once: the gRPC port and the web listener run the same ones. */
  private readonly bound: ServedMethod[] = [];

  constructor(
    readonly config: CfgConfig,
    private readonly options: CfgServerOptions = {},
  ) {
    this.grpc = new Server(channelOptions(config));
    // Every call's signal listens to this one while it runs: thousands at once are expected.
    setMaxListeners(0, this.abortAll.signal);
    if (!installRequestFrameCheck())
      log.warn(
        "this @grpc/grpc-js version's internals are not the ones cfg checks request frames through; a message with an invalid compressed flag is read as uncompressed",
      );
    if (config.grpc.server.compression !== 'none' && !installResponseCompression()) {
      log.warn(
        `grpc.server.compression "${config.grpc.server.compression}": this @grpc/grpc-js version's internals are not the ones cfg compresses responses through; responses stay uncompressed`,
      );
    }
  }

  /** The database handle given to the constructor (services get it as `this.db`). */
  get db(): Db | undefined {
    return this.options.db;
  }

  /** The event channel given to the constructor (services get it as `this.events`). */
  get events(): EventChannel | undefined {
    return this.options.events;
  }

  get services(): readonly ServedService[] {
    return this.served;
  }

  get port(): number | undefined {
    return this.listener?.port;
  }

  /** The web listener's bound port (gRPC-Web and Connect), once listenWeb has bound it. */
  get webPort(): number | undefined {
    return this.web?.port;
  }

  /** The web listener's scheme: "https" with grpc.server.tls, else "http". */
  get webScheme(): 'http' | 'https' {
    return this.web?.secure ? 'https' : 'http';
  }

  /** Connections open on the gRPC port now (0 before listen). */
  get connections(): number {
    return this.listener?.connections ?? 0;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown !== undefined;
  }

  /** Registers an app service behind the interceptor chain; each method's access is resolved here, once. */
  addService<D extends ServiceDefinition>(definition: D, implementation: ServiceImplementation<D>): void {
    const impl = implementation as object;
    if (this.options.db) provideDatabase(impl, this.options.db);
    if (this.options.events) provideEvents(impl, this.options.events);
    const cls = impl.constructor as AccessStatics;
    const access = declaredAccess(cls, definition, this.config.grpc.auth);
    const methods: MethodInfo[] = [];
    const handlers: UntypedServiceImplementation = {};
    const served: Record<string, ServiceDefinition[string]> = { ...definition };
    for (const [key, def] of Object.entries(definition)) {
      const info = methodInfo(key, def, access.get(key));
      methods.push(info);
      const bound = bindMethod(info, impl, this.options.interceptors ?? [], this.streams);
      handlers[key] = createHandler(bound, this.abortAll.signal);
      this.bound.push({ bound, definition: def });
      if (this.options.measureSizes) served[key] = measured(def);
    }
    const name = methods[0]?.service ?? cls.name;
    if (this.served.some((s) => s.name === name)) {
      throw CfgError.of('E_DUPLICATE_SERVICE', { service: name, className: cls.name });
    }
    for (const unknown of cls.requireAuth ? [] : (cls.publicMethods ?? [])) {
      if (!(unknown in definition)) log.warn(`${cls.name}.publicMethods names "${unknown}", which is not a method of ${name}`);
    }
    this.grpc.addService(served, handlers);
    this.served.push({ name, className: cls.name, methods, builtin: false, requireAuth: cls.requireAuth === true });
  }

  /** Registers a framework service (health, reflection) directly on grpc-js, outside the chain. */
  addBuiltinService(name: string, definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    this.grpc.addService(definition, implementation);
    const methods = Object.entries(definition).map(([key, def]) => methodInfo(key, def));
    this.served.push({ name, className: name, methods, builtin: true, requireAuth: false });
  }

  /** Runs when shutdown begins (health turns NOT_SERVING, watchers end). */
  onShutdown(hook: () => void | Promise<void>): void {
    this.shutdownHooks.push(hook);
  }

  /**
   * Binds host:port and starts serving; resolves to the bound port. `origin` names where host and
   * port came from ("--host", "CFG_GRPC_PORT", ...) for the hint of a bind failure.
   */
  async listen(
    host = this.config.grpc.server.host,
    port = this.config.grpc.server.port,
    origin?: { host: string; port: string },
  ): Promise<number> {
    try {
      this.listener = await openGrpcListener(this.grpc, this.config, host, port);
    } catch (err) {
      throw listenError(err, {
        host,
        port,
        label: `Port ${port} on ${host}`,
        otherPort: `cfg rungrpc --port ${port + 1}, or CFG_GRPC_PORT`,
        check: `Check ${origin?.host ?? 'grpc.server.host in cfg.config.ts'} and ${origin?.port ?? 'grpc.server.port in cfg.config.ts'}.`,
      });
    }
    return this.listener.port;
  }

  /**
   * Serves the app's services (as registered so far) over gRPC-Web and Connect on a port of their
   * own (grpc.web): the same bound methods, so the same interceptors, auth, limits and drain.
   * `registry` (the descriptor set's) gives JSON; without it, binary content types only.
   */
  async listenWeb(registry: FileRegistry | undefined, host = this.config.grpc.web.host, port = this.config.grpc.web.port): Promise<number> {
    const { serveWeb } = await import('../transports/web/serve.ts');
    try {
      this.web = await serveWeb({ config: this.config, methods: this.bound, registry, serverSignal: this.abortAll.signal, host, port });
    } catch (err) {
      throw listenError(err, {
        host,
        port,
        label: `Port ${port} on ${host} (grpc.web.port)`,
        otherPort: 'CFG_WEB_PORT',
        check: 'Check grpc.web.host and grpc.web.port in cfg.config.ts (or CFG_WEB_HOST, CFG_WEB_PORT).',
      });
    }
    return this.web.port;
  }

  /**
   * Graceful shutdown: hooks run (health NOT_SERVING), open streams (server-, client- and
   * bidi-streaming calls) are ended at once with UNAVAILABLE, new calls are refused, unary calls
   * in flight get up to `graceMs` to finish, then the rest are cancelled. Resolves as soon as the
   * last call has ended.
   */
  shutdown(graceMs = this.config.grpc.server.shutdownGraceMs): Promise<void> {
    this.shuttingDown ??= (async () => {
      for (const hook of this.shutdownHooks) {
        try {
          await hook();
        } catch (err) {
          log.warn('shutdown hook failed', { error: (err as Error).message });
        }
      }
      this.listener?.stopAccepting();
      this.web?.stopAccepting();
      const ended = this.streams.endAll();
      if (ended > 0) log.info(`ended ${ended} open stream(s) with UNAVAILABLE (server shutting down)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn(`calls still running after ${graceMs} ms: cancelling them`);
          this.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        const grpcDone = new Promise<void>((done) => this.grpc.tryShutdown(() => done()));
        void Promise.all([grpcDone, this.web?.drain()]).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.listener?.destroyAll();
      this.web?.destroyAll();
      await closeInterceptors(this.options.interceptors ?? []);
    })();
    return this.shuttingDown;
  }

  /** Cancels every call and closes every connection now. */
  forceShutdown(): void {
    this.abortAll.abort(new Error('server shutting down'));
    this.listener?.stopAccepting();
    this.grpc.forceShutdown();
    this.listener?.destroyAll();
    this.web?.stopAccepting();
    this.web?.destroyAll();
  }
}

function channelOptions(config: CfgConfig): ChannelOptions {
  const s = config.grpc.server;
  const options: ChannelOptions = {
    'grpc.max_receive_message_length': s.maxReceiveMessageLength,
    'grpc.max_send_message_length': s.maxSendMessageLength,
    'grpc.keepalive_time_ms': s.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': s.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_concurrent_streams': s.maxConcurrentStreams,
  };
  if (s.maxConnectionIdleMs > 0) options['grpc.max_connection_idle_ms'] = s.maxConnectionIdleMs;
  if (s.maxConnectionAgeMs > 0) options['grpc.max_connection_age_ms'] = s.maxConnectionAgeMs;
  if (s.compression !== 'none') options['grpc.default_compression_algorithm'] = COMPRESSION[s.compression];
  return options;
}
