import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CfgError } from '../errors.ts';
import { configureLogging } from '../log/logger.ts';
import { resolveConfig } from './resolve.ts';
import type { CfgConfig } from './types.ts';

export const CONFIG_FILE = 'cfg.config.ts';

/**
 * The nearest folder at or above `cwd` holding cfg.config.ts, or null. A folder inside
 * node_modules is never the project (an installed package is not), so from inside one the search
 * goes on above it, to the project that installed it.
 */
export function findProjectRoot(cwd: string): string | null {
  let dir = resolve(cwd);
  for (;;) {
    if (!dir.split(sep).includes('node_modules') && existsSync(join(dir, CONFIG_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export interface LoadOptions {
  cwd?: string;
  /** Without a cfg.config.ts: fail (true) or use the defaults rooted at cwd (false). */
  required?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Loads, validates and freezes cfg.config.ts, and applies its logging section. */
export async function loadConfig(options: LoadOptions = {}): Promise<CfgConfig> {
  const cwd = options.cwd ?? process.cwd();
  const root = findProjectRoot(cwd);
  let config: CfgConfig;
  if (!root) {
    if (options.required ?? true) {
      throw new CfgError(
        'E_CONFIG_NOT_FOUND',
        `No ${CONFIG_FILE} in ${resolve(cwd)} or any folder above it.`,
        `Run cfg from your project, or create ${CONFIG_FILE}: export default defineConfig({ grpc: { enabledApps: ['myapp'] } })`,
      );
    }
    config = resolveConfig({}, { root: resolve(cwd), env: options.env });
  } else {
    const file = join(root, CONFIG_FILE);
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (err) {
      throw new CfgError('E_CONFIG_LOAD', `${file} failed to load: ${(err as Error).message}`, 'Fix the error above in cfg.config.ts.', {
        cause: err,
      });
    }
    if (mod.default === undefined) {
      throw new CfgError('E_CONFIG_INVALID', `${file} has no default export.`, 'Add: export default defineConfig({ ... })');
    }
    config = resolveConfig(mod.default, { root, file, env: options.env });
  }
  const format = config.logging.format === 'auto' ? (process.stderr.isTTY ? 'pretty' : 'json') : config.logging.format;
  configureLogging({ level: config.logging.level, levels: config.logging.levels, format });
  return config;
}
