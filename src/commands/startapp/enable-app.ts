import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONFIG_FILE } from '../../config/load.ts';
import { resolveConfig } from '../../config/resolve.ts';
import type { CfgConfig } from '../../config/types.ts';

/** What became of adding the app to grpc.enabledApps. */
export type EnableResult =
  | { done: 'added' }
  | { done: 'already' }
  /** Not edited: `line` is what to add by hand, `where` says where, `reason` why cfg did not. */
  | { done: 'manual'; reason: string; where: string; line: string };

/**
 * Adds `app` to grpc.enabledApps in cfg.config.ts, only when that is safe: the file names
 * enabledApps exactly once, outside comments, as an array literal of plain strings. The edit
 * keeps the file's layout and quotes, and is checked by loading the edited text first: unless it
 * resolves to the same list plus `app`, the file is left as it was and the line to add is returned.
 */
export async function enableApp(root: string, app: string, service: string): Promise<EnableResult> {
  const file = join(root, CONFIG_FILE);
  if (!existsSync(file)) {
    return {
      done: 'manual',
      reason: `there is no ${CONFIG_FILE}`,
      where: `create ${CONFIG_FILE}`,
      line: `export default defineConfig({ grpc: { enabledApps: ['${app}'] } });`,
    };
  }
  // The file as it is now (not a config loaded earlier: an import is cached for the process).
  const original = await readFile(file, 'utf8');
  const current = await loadCopy(root, original).catch((err: unknown) => err as Error);
  if (current instanceof Error) {
    return {
      done: 'manual',
      reason: `${CONFIG_FILE} did not load (${current.message.split('\n')[0]})`,
      where: `grpc.enabledApps in ${CONFIG_FILE}, once it loads`,
      line: `'${app}'`,
    };
  }
  const { enabledApps, autoRegisterApps } = current.grpc;
  if (enabledApps.includes(app)) return { done: 'already' };
  if (!autoRegisterApps) {
    return {
      done: 'manual',
      reason: 'grpc.autoRegisterApps is false, so enabledApps is not scanned',
      where: `grpc.customServices in ${CONFIG_FILE}`,
      line: `${app}: 'apps/${app}/grpc_services#${service}',`,
    };
  }
  const wanted = [...enabledApps, app];
  const manual = (reason: string): EnableResult => ({
    done: 'manual',
    reason,
    where: `grpc in ${CONFIG_FILE}`,
    line: `enabledApps: [${wanted.map((a) => `'${a}'`).join(', ')}],`,
  });

  const edited = addToArray(original, app);
  if (typeof edited !== 'string') return manual(edited.reason);
  const loaded = await loadCopy(root, edited).then(
    (config) => config.grpc.enabledApps,
    (err: unknown) => err as Error,
  );
  if (loaded instanceof Error) return manual(`the edited file would not load (${loaded.message.split('\n')[0]})`);
  if (loaded.join('\n') !== wanted.join('\n')) return manual('the edit would not give the expected list');
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, edited);
  await rename(temp, file);
  return { done: 'added' };
}

/** The edited text, or why it cannot be edited safely. */
export function addToArray(text: string, app: string): string | { reason: string } {
  const uses = [...text.matchAll(/\benabledApps\b/g)];
  if (uses.length !== 1)
    return {
      reason: uses.length === 0 ? `${CONFIG_FILE} does not set enabledApps` : `${CONFIG_FILE} names enabledApps ${uses.length} times`,
    };
  const at = uses[0]!.index;
  const before = text.slice(0, at);
  const lineStart = before.lastIndexOf('\n') + 1;
  if (before.slice(lineStart).includes('//') || before.split('/*').length !== before.split('*/').length) {
    return { reason: 'enabledApps is inside a comment' };
  }
  const literal = /^enabledApps\s*:\s*\[([^[\]]*)\]/.exec(text.slice(at));
  if (!literal) return { reason: 'enabledApps is not an array literal' };
  const inner = literal[1]!;
  const items = inner.split(',').map((s) => s.trim());
  const trailingComma = items.length > 1 && items.at(-1) === '';
  if (trailingComma || (items.length === 1 && items[0] === '')) items.pop();
  if (!items.every((s) => /^(['"])[A-Za-z0-9_-]+\1$/.test(s))) return { reason: 'enabledApps holds more than plain strings' };
  const quote = items[0]?.[0] ?? (/"/.test(text) && !/'/.test(text) ? '"' : "'");
  const entry = `${quote}${app}${quote}`;
  const open = at + literal[0].indexOf('[') + 1;
  const close = open + inner.length;
  let next: string;
  if (items.length === 0) next = entry;
  else if (inner.includes('\n')) {
    // One item per line: a new line with the last item's indentation, commas as the file has them.
    const lastItem = inner.trimEnd().replace(/,$/, '');
    const indent = /\n([ \t]*)[^\n]*$/.exec(lastItem)?.[1] ?? '  ';
    const tail = inner.slice(lastItem.length);
    next = `${lastItem},\n${indent}${entry}${trailingComma ? ',' : ''}${tail.replace(/^,/, '')}`;
  } else next = `${inner.trimEnd().replace(/,$/, '')}, ${entry}${trailingComma ? ',' : ''}${inner.slice(inner.trimEnd().length)}`;
  return text.slice(0, open) + next + text.slice(close);
}

let copies = 0;

/** Loads `text` as the project's config, from a fresh file beside cfg.config.ts (a new module, never a cached one). */
async function loadCopy(root: string, text: string): Promise<CfgConfig> {
  const copy = join(root, `.cfg.config.startapp-${process.pid}-${++copies}.ts`);
  await writeFile(copy, text);
  try {
    const mod = (await import(pathToFileURL(copy).href)) as { default?: unknown };
    return resolveConfig(mod.default, { root, file: CONFIG_FILE, env: {} });
  } finally {
    await rm(copy, { force: true });
  }
}
