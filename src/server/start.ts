import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { CfgConfig } from '../config/types.ts';
import type { Db } from '../db/client.ts';
import type { EventChannel } from '../events/channel.ts';
import { appsNotEnabled, describeRegistration, discover } from '../discovery/discover.ts';
import { CfgError } from '../errors.ts';
import { buildInterceptors, type PipelineSlot } from '../interceptors/pipeline.ts';
import type { Interceptor } from '../call/interceptor.ts';
import type { RequestLogCounts } from '../http/metrics.ts';
import { getLogger } from '../log/logger.ts';
import { jsonwebtoken } from '../auth/jsonwebtoken.ts';
import { LOGGER_NAME } from '../services/base-service.ts';
import { CfgServer } from './cfg-server.ts';
import { autoGenerateStubs } from './auto-generate.ts';
import { overrideFlag, withServerOverrides } from '../config/overrides.ts';

const log = getLogger('grpc.server');

export interface StartOptions {
  /** Overrides grpc.server.host (folded into the config first; rungrpc folds --host itself). */
  host?: string;
  /** Overrides grpc.server.port (folded into the config first; rungrpc folds --port itself). */
  port?: number;
  /** Run proto.autoGenerate (default true; cluster workers leave it to the primary). */
  generate?: boolean;
  /** Extra interceptors per pipeline slot (docs/services.md "Interceptors"), e.g. `{ metrics: [m] }`. */
  interceptors?: Partial<Record<PipelineSlot, readonly Interceptor[]>>;
  /** Serve the HTTP side port when grpc.http.enabled (default true; only the first cluster worker does). */
  http?: boolean;
  /** Overrides grpc.http.port. */
  httpPort?: number;
  /** Overrides grpc.web.port (the web listener is served when grpc.web.enabled). */
  webPort?: number;
  /**
   * Serve although the database has unapplied migrations (rungrpc --allow-unmigrated); health
   * stays NOT_SERVING until they are applied. Without it, start-up fails with E_DB_NOT_MIGRATED.
   */
  allowUnmigrated?: boolean;
  /**
   * The database to serve, a handle from openDb()/createDb(). By default the server opens
   * config.database itself and closes it when it stops. A handle given here is used for
   * everything (services' `this.db`, auth, the monitor, the side port; the migration check and the
   * request log's own connection go to the database it was opened on) and left open on stop: its
   * owner closes it.
   */
  db?: Db;
}

export interface RunningServer {
  readonly server: CfgServer;
  readonly port: number;
  /** This server's id: its grpc_server row, and the serverId of its request log rows. */
  readonly serverId: string;
  /** The HTTP side port's bound port, when it is served (grpc.http.enabled). */
  readonly httpPort: number | undefined;
  /** The web listener's bound port (gRPC-Web and Connect), when it is served (grpc.web.enabled). */
  readonly webPort: number | undefined;
  /** The database this server serves: the handle its services get as `this.db`. */
  readonly db: Db;
  /** The event channel between the processes of the deployment: the one its services get as `this.events`. */
  readonly events: EventChannel;
  /** Graceful stop: health NOT_SERVING, drain, flush the request log, mark the server stopped, close the database (the one it opened). */
  stop(): Promise<void>;
}

export { buildInterceptors } from '../interceptors/pipeline.ts';

/**
 * Everything `cfg rungrpc` does before serving: proto auto-generation, discovery, the chain,
 * health, reflection, bind. Resolves once the server answers SERVING.
 */
export async function startServer(config: CfgConfig, options: StartOptions = {}): Promise<RunningServer> {
  if (!config.grpc.enabled) {
    throw CfgError.of('E_GRPC_DISABLED', {});
  }
  // The command line's host and port, folded into the config once: config -> start -> listen.
  config = withServerOverrides(config, { host: options.host, port: options.port });
  if (options.generate !== false) await autoGenerateStubs(config);

  // Like Django's runserver, but refusing: a schema behind the code answers INTERNAL to every call.
  const [{ checkMigrations, unmigratedError }, { closeDb, dbTarget, openDb }, { parseDatabaseUrl }] = await Promise.all([
    import('../db/migration-check.ts'),
    import('../db/client.ts'),
    import('../db/url.ts'),
  ]);
  const target = options.db ? dbTarget(options.db) : parseDatabaseUrl(config.database.url, config.root);
  const migrations = await checkMigrations(config, target);
  if (migrations.pending > 0) {
    if (!options.allowUnmigrated)
      throw unmigratedError(
        migrations,
        'Run cfg migrate, or start anyway with cfg rungrpc --allow-unmigrated (health stays NOT_SERVING until they are applied).',
      );
    log.warn(`${unmigratedError(migrations).message} Serving anyway (--allow-unmigrated); health is NOT_SERVING until they are applied.`);
  }

  // A database outage or contention thrown by any handler reaches the client as UNAVAILABLE or
  // ABORTED (src/db/errors.ts), not INTERNAL: the call core's boundary asks this mapper.
  const [{ registerErrorMapper }, { mapDatabaseError }] = await Promise.all([import('../call/boundary.ts'), import('../db/errors.ts')]);
  registerErrorMapper(mapDatabaseError);
  // The server's database: opened once here, handed to everything below, closed by stop().
  const db = options.db ?? (await openDb(config));
  const ownDb = options.db === undefined;
  let events: EventChannel | undefined;
  try {
    events = await openEventChannel(config, db);
    return await serve(config, options, db, events, ownDb, migrations.pending, () => checkMigrations(config, target));
  } catch (err) {
    await events?.close().catch(() => {});
    if (ownDb) await closeDb(db).catch(() => {});
    throw err;
  }
}

/** The server's event channel (config.events); one that cannot open (a database not yet migrated) leaves events off, with a warning. */
async function openEventChannel(config: CfgConfig, db: Db): Promise<EventChannel> {
  const { openEvents } = await import('../events/open.ts');
  try {
    return await openEvents(config, db);
  } catch (err) {
    log.warn(
      `event channel: ${(err as Error).message.split('\n')[0]}; serving with events off (other processes' changes are not seen until it opens)`,
    );
    return openEvents({ ...config, events: { ...config.events, backend: 'off' } }, db);
  }
}

/** Where this process reaches its own listener bound to `host`: loopback for a wildcard address. */
function loopbackOf(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return bare === '::' || bare === '0.0.0.0' || bare === '' ? '127.0.0.1' : bare;
}

/**
 * The registry the web listener reads and writes JSON with: the app's descriptor set (the one
 * reflection serves) and cfg's own. Without the descriptor set, the web listener serves binary only.
 */
async function webRegistry(generatedDir: string, web: boolean): Promise<import('@bufbuild/protobuf').FileRegistry | undefined> {
  const { appRawFiles, builtinRawFiles, registryOf } = await import('../proto/descriptors.ts');
  try {
    const files = new Map<string, import('@bufbuild/protobuf/wkt').FileDescriptorProto>();
    for (const file of [...appRawFiles(generatedDir), ...builtinRawFiles()])
      if (!files.has(file.proto.name)) files.set(file.proto.name, file.proto);
    return registryOf([...files.values()]);
  } catch (err) {
    if (web) log.warn(`the web listener serves binary content types only: ${(err as Error).message}`);
    return undefined;
  }
}

/** startServer once the database is open: discovery, the chain, built-in services, listen. */
async function serve(
  config: CfgConfig,
  options: StartOptions,
  db: Db,
  events: EventChannel,
  ownDb: boolean,
  pendingMigrations: number,
  recheckMigrations: () => Promise<{ pending: number }>,
): Promise<RunningServer> {
  const discovery = await discover(config);
  const serverId = randomUUID();
  // The HTTP side port's metrics interceptor takes the pipeline's metrics slot.
  const withHttp = config.grpc.http.enabled && options.http !== false;
  const metrics = withHttp ? (await import('../interceptors/metrics.ts')).callMetrics() : undefined;
  const extra = metrics ? { ...options.interceptors, metrics: [metrics, ...(options.interceptors?.metrics ?? [])] } : options.interceptors;
  const interceptors = await buildInterceptors(config, { db, serverId, extra });
  const server = new CfgServer(config, { interceptors, measureSizes: config.grpc.requestLog.enabled, db, events });
  // API keys revoked and users changed through any process reach this one's auth caches.
  const stopAuthEvents = (await import('../auth/events.ts')).listenForAuthChanges(events);
  for (const found of discovery.services) {
    const [ServiceClass, add] = found.registration;
    let instance: Record<PropertyKey, unknown>;
    try {
      instance = new ServiceClass() as Record<PropertyKey, unknown>;
    } catch (err) {
      throw new CfgError(
        'E_MODULE_IMPORT',
        `new ${ServiceClass.name}() (from ${found.source}) failed: ${(err as Error).message}`,
        'cfg creates each service class with no arguments: keep its constructor free of required parameters.',
        { cause: err },
      );
    }
    instance[LOGGER_NAME] = found.loggerName;
    add(instance, server);
    log.debug(`registered ${describeRegistration(found.registration)} from ${found.source}`);
  }
  for (const hook of discovery.hooks) await hook.fn(server);
  const needsAuth = !config.grpc.auth.enabled && server.services.find((s) => s.requireAuth);
  if (needsAuth) {
    throw new CfgError(
      'E_CONFIG_INVALID',
      `${needsAuth.className} requires authentication (static requireAuth) but grpc.auth.enabled is false.`,
      'Enable grpc.auth, or drop requireAuth from the class.',
    );
  }
  if (server.services.length === 0) {
    const idle = config.grpc.autoRegisterApps ? appsNotEnabled(config) : [];
    throw new CfgError(
      'E_NO_SERVICES',
      'No gRPC services to serve: grpc.enabledApps, customServices and handlersHook found none.',
      idle.length
        ? `apps/${idle[0]} has a service module: add "${idle[0]}" to grpc.enabledApps in cfg.config.ts.`
        : 'Add your app label to grpc.enabledApps in cfg.config.ts, then run cfg check.',
    );
  }

  let health: import('../services/builtin/health.ts').HealthHandle | undefined;
  if (config.grpc.server.enableHealthCheck) {
    const { addHealthService } = await import('../services/builtin/health.ts');
    health = addHealthService(server);
    server.onShutdown(() => health?.setAll('NOT_SERVING'));
    if (pendingMigrations > 0) {
      const { holdUntilMigrated } = await import('../services/builtin/schema-health.ts');
      health = holdUntilMigrated(server, health, async () => (await recheckMigrations()).pending);
    }
    const { watchDatabaseHealth } = await import('../services/builtin/db-health.ts');
    watchDatabaseHealth(server, health, db);
  }
  if (config.grpc.server.enableReflection) {
    const { addReflectionService } = await import('../services/builtin/reflection.ts');
    await addReflectionService(server, join(config.root, config.grpc.proto.outputDir));
  }

  const { settingOrigin } = await import('../config/origin.ts');
  const origin = {
    host: settingOrigin('grpc.server.host', overrideFlag(config, 'grpc.server.host')),
    port: settingOrigin('grpc.server.port', overrideFlag(config, 'grpc.server.port')),
  };
  const { host } = config.grpc.server;
  const port = await server.listen(host, config.grpc.server.port, origin);
  // SERVING as soon as the gRPC port is bound, before its first connection is read (this runs in
  // the same turn as the bind's callback): every service is registered and the database open. In
  // a cluster the primary hands a new worker connections from its bind on, and a health check
  // answered NOT_SERVING by a worker still binding its other ports reads as the whole server down.
  // A later bind that fails stops the process.
  health?.setAll('SERVING');
  let webPort: number | undefined;
  const registry =
    config.grpc.web.enabled || withHttp
      ? await webRegistry(join(config.root, config.grpc.proto.outputDir), config.grpc.web.enabled)
      : undefined;
  if (config.grpc.web.enabled) {
    try {
      webPort = await server.listenWeb(registry, config.grpc.web.host, options.webPort ?? config.grpc.web.port);
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
  }
  (await import('../transports/grpc/fd-limit.ts')).checkDescriptorLimit(config, withHttp, log);
  let http: import('../http/server.ts').HttpSidePort | undefined;
  if (metrics) {
    const { startHttpSidePort } = await import('../http/server.ts');
    try {
      const requestLog = interceptors.find(
        (i): i is Interceptor & { writer: RequestLogCounts } => i.name === 'request-log' && 'writer' in i,
      )?.writer;
      http = await startHttpSidePort({
        config,
        server,
        metrics,
        db,
        port: options.httpPort,
        requestLog,
        registry,
        web:
          webPort === undefined
            ? undefined
            : { host: loopbackOf(config.grpc.web.host), port: webPort, secure: server.webScheme === 'https' },
      });
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
  }
  let monitor: import('../ops/monitor.ts').Monitor | undefined;
  if (config.grpc.monitor.enabled) {
    const { startMonitor } = await import('../ops/monitor.ts');
    const processes =
      config.grpc.server.processes === 'auto' ? (await import('node:os')).availableParallelism() : config.grpc.server.processes;
    monitor = startMonitor(config, db, {
      serverId,
      address: `${host}:${port}`,
      services: server.services.map((s) => s.name),
      processes,
      events,
    });
  }
  // Work after bind: what the first authenticated call would otherwise load, once the caller (the
  // banner, a test) has had the running server (setImmediate runs after the promise chain that
  // hands it over).
  if (config.grpc.auth.enabled) setImmediate(jsonwebtoken);
  return {
    server,
    port,
    serverId,
    httpPort: http?.port,
    webPort,
    db,
    events,
    async stop() {
      // Both ports drain together; then the interceptors close (the request log flushes).
      await Promise.all([server.shutdown(), http?.close()]);
      await monitor?.stop();
      stopAuthEvents();
      await events.close();
      if (ownDb) await (await import('../db/client.ts')).closeDb(db);
    },
  };
}
