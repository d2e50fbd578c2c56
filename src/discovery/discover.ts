import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import { getLogger } from '../log/logger.ts';
import type { GrpcHandlers, ServiceRegistrar, ServiceRegistration } from '../services/registration.ts';
import { parseModuleRef, probeApp, resolveModuleFile, serviceNameOf } from './modules.ts';

const log = getLogger('grpc.discovery');

/** One service found by discovery, ready to be instantiated and registered. */
export interface DiscoveredService {
  /** App label, or the customServices key. */
  readonly app: string;
  /** Module it came from, relative to the project root. */
  readonly source: string;
  /** Logger name for the service's instance ("apps.crypto.grpc_services"). */
  readonly loggerName: string;
  readonly registration: ServiceRegistration;
}

export interface Discovery {
  readonly services: DiscoveredService[];
  /** handlersHook functions to call with the real server. */
  readonly hooks: Array<{ source: string; fn: (server: ServiceRegistrar) => unknown }>;
}

/** "fixture.Greeter (Greeter)": what a registration serves, for logs and `cfg check`. */
export function describeRegistration([cls, add]: ServiceRegistration): string {
  const name = serviceNameOf(add.definition);
  return name ? `${name} (${cls.name})` : cls.name;
}

async function importModule(config: CfgConfig, file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw failure(config, file, 'failed to import', err);
  }
}

/**
 * The error for a module that failed to load or whose grpcHandlers threw. A missing file under
 * the stubs folder means the stubs were never generated: the guide's "Import errors" item.
 */
function failure(config: CfgConfig, file: string, what: string, err: unknown): CfgError {
  const message = err instanceof Error ? err.message : String(err);
  const shown = relative(config.root, file);
  const outputDir = resolve(config.root, config.grpc.proto.outputDir);
  const notFound =
    /Cannot find module|ERR_MODULE_NOT_FOUND|Cannot find package/.test(message) ||
    (err as { code?: unknown })?.code === 'ERR_MODULE_NOT_FOUND';
  if (notFound && (message.includes(outputDir + sep) || message.includes(`/${config.grpc.proto.outputDir}/`))) {
    return new CfgError(
      'E_STUBS_MISSING',
      `${shown} imports generated stubs that do not exist (${firstLine(message)}).`,
      `Generate them: cfg generate-proto (or set grpc.proto.autoGenerate so rungrpc does it).`,
      { cause: err },
    );
  }
  const hint = /of null|on null|null \(reading/.test(message)
    ? 'grpcHandlers is called with null in discovery mode: only register on the server when it is not null.'
    : 'Fix the error in that module. A circular import? Import your service and the stubs inside grpcHandlers, as the guide advises.';
  return new CfgError('E_MODULE_IMPORT', `${shown} ${what}: ${message}`, hint, { cause: err });
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!;
}

/** Checks the shape the guide requires: a list of (ServiceClass, addToServer) pairs. */
export function assertRegistrations(value: unknown, source: string): asserts value is ServiceRegistration[] {
  const fail = (why: string) =>
    new CfgError(
      'E_BAD_HANDLERS_RETURN',
      `grpcHandlers in ${source} returned ${why}.`,
      'Return an array of [ServiceClass, addToServer] pairs, e.g. return [registration(CryptoServiceService, CryptoService)].',
    );
  if (!Array.isArray(value))
    throw fail(value === undefined ? 'nothing (undefined)' : value === null ? 'null' : `a ${typeof value}, not an array`);
  value.forEach((entry: unknown, i) => {
    if (!Array.isArray(entry) || entry.length !== 2) throw fail(`an item ${i} that is not a [ServiceClass, addToServer] pair`);
    if (typeof entry[0] !== 'function') throw fail(`an item ${i} whose first element is not a class`);
    if (typeof entry[1] !== 'function') throw fail(`an item ${i} whose second element is not an addToServer function`);
  });
}

/** Runs a module's grpcHandlers in discovery mode (server = null). */
async function handlersOf(config: CfgConfig, file: string, mod: Record<string, unknown>): Promise<ServiceRegistration[]> {
  const source = relative(config.root, file);
  const fn = mod.grpcHandlers;
  if (typeof fn !== 'function') {
    const near = Object.keys(mod).find((k) => /^grpc_?handlers$/i.test(k) && k !== 'grpcHandlers');
    const found = Object.keys(mod);
    throw new CfgError(
      'E_NO_HANDLERS_EXPORT',
      `${source} has no exported grpcHandlers function${near ? ` (found "${near}": the name is grpcHandlers)` : found.length ? ` (it exports ${found.join(', ')})` : ''}.`,
      'Add: export async function grpcHandlers(server) { ...; return [registration(MyServiceDefinition, MyService)]; }',
    );
  }
  let result: unknown;
  try {
    result = await (fn as GrpcHandlers)(null);
  } catch (err) {
    throw failure(config, file, 'grpcHandlers(null) failed', err);
  }
  assertRegistrations(result, source);
  return result;
}

/** Discovers one app by label, as the guide describes: the first service module that exists wins. */
export async function discoverApp(config: CfgConfig, label: string): Promise<DiscoveredService[]> {
  const appDir = join(config.root, 'apps', label);
  if (!existsSync(appDir) || !statSync(appDir).isDirectory()) {
    log.debug(`${label}: apps/${label}/ does not exist`);
    throw new CfgError(
      'E_APP_NOT_FOUND',
      `App "${label}" is in grpc.enabledApps but apps/${label}/ does not exist.`,
      `Create apps/${label}/ or remove "${label}" from grpc.enabledApps.`,
    );
  }
  const probes = probeApp(appDir);
  const chosen = probes.find((p) => p.file);
  for (const probe of probes) {
    const what = !probe.file
      ? 'not found'
      : probe === chosen
        ? `found ${relative(config.root, probe.file)}`
        : `found ${relative(config.root, probe.file)} but ignored (apps/${label}/${chosen!.module} comes first)`;
    log.debug(`${label}: tried apps/${label}/${probe.module}: ${what}`);
  }
  if (!chosen?.file) {
    throw new CfgError(
      'E_NO_SERVICE_MODULE',
      `App "${label}" has no gRPC service module: none of ${probes.map((p) => `apps/${label}/${p.module}`).join(', ')} exists (as a folder with index.ts or a .ts file).`,
      `Create apps/${label}/grpc_services/index.ts exporting grpcHandlers.`,
    );
  }
  const file = chosen.file;
  const registrations = await handlersOf(config, file, await importModule(config, file));
  const source = relative(config.root, file);
  const loggerName = `apps.${label}.${chosen.module.replace(/\//g, '.')}`;
  if (registrations.length === 0) log.warn(`${label}: grpcHandlers in ${source} returned no services`);
  else log.debug(`${label}: ${registrations.length} service(s) from ${source}: ${registrations.map(describeRegistration).join(', ')}`);
  return registrations.map((registration) => ({ app: label, source, loggerName, registration }));
}

/** Resolves one customServices entry: a class with a static `definition`, or a class its module's grpcHandlers lists. */
export async function discoverCustom(config: CfgConfig, label: string, ref: string): Promise<DiscoveredService> {
  const { path, exportName } = parseModuleRef(ref);
  const file = resolveModuleFile(join(config.root, path));
  const where = `grpc.customServices.${label}`;
  if (!file)
    throw new CfgError(
      'E_NO_SERVICE_MODULE',
      `${where}: module ${path} does not exist (tried ${path}.ts and ${path}/index.ts).`,
      'Fix the path: it is relative to the project root.',
    );
  const mod = await importModule(config, file);
  const source = relative(config.root, file);
  const cls = mod[exportName];
  if (typeof cls !== 'function') {
    throw new CfgError(
      'E_NO_HANDLERS_EXPORT',
      `${where}: ${source} has no exported class "${exportName}".`,
      `Exports found: ${Object.keys(mod).join(', ') || 'none'}.`,
    );
  }
  const definition = (cls as { definition?: unknown }).definition;
  let registration: ServiceRegistration | undefined;
  if (definition && typeof definition === 'object') {
    const { addToServer } = await import('../services/registration.ts');
    registration = [cls as ServiceRegistration[0], addToServer(definition as Parameters<typeof addToServer>[0])];
  } else if (typeof mod.grpcHandlers === 'function') {
    registration = (await handlersOf(config, file, mod)).find(([c]) => c === cls);
  }
  if (!registration) {
    throw new CfgError(
      'E_BAD_HANDLERS_RETURN',
      `${where}: cannot tell which service ${exportName} implements: it has no static definition, and ${source} has no grpcHandlers listing it.`,
      'Give the class a static definition (static readonly definition = MyServiceService), or export it from a module whose grpcHandlers lists it.',
    );
  }
  log.debug(`customServices.${label}: ${describeRegistration(registration)} from ${source}`);
  return { app: label, source, loggerName: `apps.${label}`, registration };
}

/** Loads the handlersHook function ("api/urls#grpcHandlers"), called later with the real server. */
async function loadHook(config: CfgConfig, ref: string): Promise<Discovery['hooks'][number]> {
  const { path, exportName } = parseModuleRef(ref);
  const file = resolveModuleFile(join(config.root, path));
  if (!file)
    throw new CfgError(
      'E_NO_SERVICE_MODULE',
      `grpc.handlersHook: module ${path} does not exist (tried ${path}.ts and ${path}/index.ts).`,
      'Fix the path: it is relative to the project root.',
    );
  const mod = await importModule(config, file);
  const fn = mod[exportName];
  const source = `${relative(config.root, file)}#${exportName}`;
  if (typeof fn !== 'function') {
    throw new CfgError(
      'E_NO_HANDLERS_EXPORT',
      `grpc.handlersHook: ${relative(config.root, file)} has no exported function "${exportName}".`,
      `Exports found: ${Object.keys(mod).join(', ') || 'none'}.`,
    );
  }
  log.debug(`handlersHook: ${source} will be called with the server`);
  return {
    source,
    fn: async (server) => {
      try {
        await (fn as (server: ServiceRegistrar) => unknown)(server);
      } catch (err) {
        if (err instanceof CfgError) throw err;
        throw failure(config, file, `handlersHook ${exportName}(server) failed`, err);
      }
    },
  };
}

/** Everything rungrpc will register: auto-discovered apps, customServices and the handlersHook. */
export async function discover(config: CfgConfig, options: { apps?: boolean } = {}): Promise<Discovery> {
  const services: DiscoveredService[] = [];
  const hooks: Discovery['hooks'] = [];
  const g = config.grpc;
  if (!g.autoRegisterApps) log.debug('autoRegisterApps is false: apps are not scanned');
  else if (options.apps ?? true) for (const label of g.enabledApps) services.push(...(await discoverApp(config, label)));
  for (const [label, ref] of Object.entries(g.customServices)) services.push(await discoverCustom(config, label, ref));
  if (g.handlersHook) hooks.push(await loadHook(config, g.handlersHook));
  return { services, hooks };
}

/** App folders that have a service module but are not in enabledApps (the first troubleshooting item). */
export function appsNotEnabled(config: CfgConfig): string[] {
  const appsDir = join(config.root, 'apps');
  if (!existsSync(appsDir)) return [];
  return readdirSync(appsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !config.grpc.enabledApps.includes(d.name))
    .filter((d) => probeApp(join(appsDir, d.name)).some((p) => p.file))
    .map((d) => d.name)
    .sort();
}
