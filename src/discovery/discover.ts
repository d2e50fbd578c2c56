import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import { getLogger } from '../log/logger.ts';
import type { GrpcHandlers, ServiceRegistrar, ServiceRegistration } from '../services/registration.ts';
import { parseModuleRef, probeApp, resolveModuleFile } from './modules.ts';

const log = getLogger('grpc.discovery');

/** One service found by discovery, ready to be instantiated and registered. */
export interface DiscoveredService {
  /** App label, or "custom"/"hook". */
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

async function importModule(root: string, file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw importError(root, file, err);
  }
}

function importError(root: string, file: string, err: unknown): CfgError {
  const message = err instanceof Error ? err.message : String(err);
  const shown = relative(root, file);
  if (/generated\//.test(message) && /Cannot find module|ERR_MODULE_NOT_FOUND/.test(message)) {
    return new CfgError('E_STUBS_MISSING', `${shown} imports generated stubs that do not exist: ${message}`, 'Generate them: cfg generate-proto', { cause: err });
  }
  return new CfgError('E_MODULE_IMPORT', `${shown} failed to import: ${message}`, 'Fix the error in that module (circular import? use lazy imports inside grpcHandlers).', { cause: err });
}

/** Checks the shape the guide requires: a list of (ServiceClass, addToServer) pairs. */
export function assertRegistrations(value: unknown, source: string): asserts value is ServiceRegistration[] {
  const fail = (why: string) =>
    new CfgError('E_BAD_HANDLERS_RETURN', `grpcHandlers in ${source} returned ${why}.`, 'Return an array of [ServiceClass, addToServer(Definition)] pairs, e.g. [registration(CryptoServiceService, CryptoService)].');
  if (!Array.isArray(value)) throw fail(value === undefined ? 'nothing' : `a ${typeof value}, not an array`);
  value.forEach((entry: unknown, i) => {
    if (!Array.isArray(entry) || entry.length !== 2) throw fail(`an item ${i} that is not a [ServiceClass, addToServer] pair`);
    if (typeof entry[0] !== 'function') throw fail(`an item ${i} whose first element is not a class`);
    if (typeof entry[1] !== 'function') throw fail(`an item ${i} whose second element is not an addToServer function`);
  });
}

/** Runs an app module's grpcHandlers in discovery mode (server = null). */
async function handlersOf(root: string, file: string, mod: Record<string, unknown>): Promise<ServiceRegistration[]> {
  const source = relative(root, file);
  const fn = mod.grpcHandlers;
  if (typeof fn !== 'function') {
    const near = Object.keys(mod).find((k) => /^grpc_?handlers$/i.test(k));
    throw new CfgError(
      'E_NO_HANDLERS_EXPORT',
      `${source} has no exported grpcHandlers function${near ? ` (found "${near}")` : ''}.`,
      'Add: export function grpcHandlers(server) { return [registration(MyServiceDefinition, MyService)]; }',
    );
  }
  let result: unknown;
  try {
    result = await (fn as GrpcHandlers)(null);
  } catch (err) {
    throw importError(root, file, err);
  }
  assertRegistrations(result, source);
  return result;
}

/** Discovers one app by label, as the guide describes. */
export async function discoverApp(config: CfgConfig, label: string): Promise<DiscoveredService[]> {
  const appLog = getLogger('grpc.discovery');
  const appDir = join(config.root, 'apps', label);
  if (!existsSync(appDir) || !statSync(appDir).isDirectory()) {
    throw new CfgError('E_APP_NOT_FOUND', `App "${label}" is in grpc.enabledApps but apps/${label}/ does not exist.`, `Create apps/${label}/ or remove "${label}" from grpc.enabledApps.`);
  }
  for (const probe of probeApp(appDir)) {
    appLog.debug(`${label}: tried apps/${label}/${probe.module}: ${probe.file ? 'found ' + relative(config.root, probe.file) : 'not found'}`);
    if (!probe.file) continue;
    const mod = await importModule(config.root, probe.file);
    const registrations = await handlersOf(config.root, probe.file, mod);
    const loggerName = `apps.${label}.${probe.module.replace(/\//g, '.')}`;
    log.debug(`${label}: ${registrations.length} service(s) from ${relative(config.root, probe.file)}`, { services: registrations.map(([c]) => c.name) });
    return registrations.map((registration) => ({ app: label, source: relative(config.root, probe.file!), loggerName, registration }));
  }
  throw new CfgError(
    'E_NO_SERVICE_MODULE',
    `App "${label}" has no gRPC service module: none of ${probeApp(appDir).map((p) => `apps/${label}/${p.module}`).join(', ')} exists (as a folder with index.ts or a .ts file).`,
    `Create apps/${label}/grpc_services/index.ts exporting grpcHandlers.`,
  );
}

/** Resolves one customServices entry: a class with a static `definition`, or a class its module's grpcHandlers lists. */
async function discoverCustom(config: CfgConfig, label: string, ref: string): Promise<DiscoveredService> {
  const { path, exportName } = parseModuleRef(ref);
  const file = resolveModuleFile(join(config.root, path));
  if (!file) throw new CfgError('E_NO_SERVICE_MODULE', `grpc.customServices.${label}: module ${path} does not exist (tried ${path}.ts and ${path}/index.ts).`, 'Fix the path: it is relative to the project root.');
  const mod = await importModule(config.root, file);
  const cls = mod[exportName];
  if (typeof cls !== 'function') throw new CfgError('E_NO_HANDLERS_EXPORT', `grpc.customServices.${label}: ${relative(config.root, file)} has no export "${exportName}".`, `Exports found: ${Object.keys(mod).join(', ') || 'none'}.`);
  const definition = (cls as { definition?: unknown }).definition;
  let registration: ServiceRegistration | undefined;
  if (definition && typeof definition === 'object') {
    const { addToServer } = await import('../services/registration.ts');
    registration = [cls as ServiceRegistration[0], addToServer(definition as Parameters<typeof addToServer>[0])];
  } else if (typeof mod.grpcHandlers === 'function') {
    registration = (await handlersOf(config.root, file, mod)).find(([c]) => c === cls);
  }
  if (!registration) {
    throw new CfgError('E_BAD_HANDLERS_RETURN', `grpc.customServices.${label}: cannot tell which service ${exportName} implements.`, `Give the class a static definition (static readonly definition = MyServiceService), or export it from a module whose grpcHandlers lists it.`);
  }
  return { app: label, source: relative(config.root, file), loggerName: `apps.${label}`, registration };
}

/** Everything rungrpc will register: auto-discovered apps, customServices and the handlersHook. */
export async function discover(config: CfgConfig): Promise<Discovery> {
  const services: DiscoveredService[] = [];
  const hooks: Discovery['hooks'] = [];
  const g = config.grpc;
  if (g.autoRegisterApps) {
    for (const label of g.enabledApps) services.push(...(await discoverApp(config, label)));
  } else {
    log.debug('autoRegisterApps is false: apps are not scanned');
  }
  for (const [label, ref] of Object.entries(g.customServices)) services.push(await discoverCustom(config, label, ref));
  if (g.handlersHook) {
    const { path, exportName } = parseModuleRef(g.handlersHook);
    const file = resolveModuleFile(join(config.root, path));
    if (!file) throw new CfgError('E_NO_SERVICE_MODULE', `grpc.handlersHook: module ${path} does not exist (tried ${path}.ts and ${path}/index.ts).`, 'Fix the path: it is relative to the project root.');
    const mod = await importModule(config.root, file);
    const fn = mod[exportName];
    if (typeof fn !== 'function') throw new CfgError('E_NO_HANDLERS_EXPORT', `grpc.handlersHook: ${relative(config.root, file)} has no exported function "${exportName}".`, `Exports found: ${Object.keys(mod).join(', ') || 'none'}.`);
    hooks.push({ source: `${relative(config.root, file)}#${exportName}`, fn: fn as (server: ServiceRegistrar) => unknown });
  }
  return { services, hooks };
}

/** App folders that have a service module but are not in enabledApps (the first troubleshooting item). */
export function appsNotEnabled(config: CfgConfig): string[] {
  const appsDir = join(config.root, 'apps');
  if (!existsSync(appsDir)) return [];
  return readdirSync(appsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !config.grpc.enabledApps.includes(d.name))
    .filter((d) => probeApp(join(appsDir, d.name)).some((p) => p.file))
    .map((d) => d.name);
}
