import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The module names the guide lists, tried in this order for each app. */
export const SERVICE_MODULES = ['grpc_services', 'grpc_handlers', 'services/grpc', 'handlers/grpc', 'api/grpc'] as const;

/** What one candidate module path resolves to on disk, or null: a folder with index.ts, or a .ts file. */
export function resolveModuleFile(base: string): string | null {
  const candidates = [join(base, 'index.ts'), join(base, 'index.js'), `${base}.ts`, `${base}.js`];
  for (const file of candidates) {
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  return null;
}

export interface ModuleProbe {
  module: string;
  file: string | null;
}

/** Probes every candidate module of one app, in order. */
export function probeApp(appDir: string): ModuleProbe[] {
  return SERVICE_MODULES.map((module) => ({ module, file: resolveModuleFile(join(appDir, module)) }));
}

/** Splits "path/to/module#exportName". */
export function parseModuleRef(ref: string): { path: string; exportName: string } {
  const at = ref.lastIndexOf('#');
  return { path: ref.slice(0, at), exportName: ref.slice(at + 1) };
}

/** "fixture.Greeter" for a definition whose methods are "/fixture.Greeter/...", or undefined. */
export function serviceNameOf(definition: object | undefined): string | undefined {
  if (!definition) return undefined;
  const first = Object.values(definition)[0] as { path?: unknown } | undefined;
  const match = typeof first?.path === 'string' ? /^\/([^/]+)\//.exec(first.path) : null;
  return match?.[1];
}
