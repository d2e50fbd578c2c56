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
export async function enableApp(config: CfgConfig, app: string, service: string): Promise<EnableResult> {
  const file = join(config.root, CONFIG_FILE);
  const { enabledApps, autoRegisterApps } = config.grpc;
  const wanted = [...enabledApps, app];
  const line = `enabledApps: [${wanted.map((a) => `'${a}'`).join(', ')}],`;
  if (enabledApps.includes(app)) return { done: 'already' };
  if (!existsSync(file)) {
    return { done: 'manual', reason: `there is no ${CONFIG_FILE}`, where: `create ${CONFIG_FILE}`, line: `export default defineConfig({ grpc: { enabledApps: ['${app}'] } });` };
  }
  if (!autoRegisterApps) {
    return { done: 'manual', reason: 'grpc.autoRegisterApps is false, so enabledApps is not scanned', where: `grpc.customServices in ${CONFIG_FILE}`, line: `${app}: 'apps/${app}/grpc_services#${service}',` };
  }
  const manual = (reason: string): EnableResult => ({ done: 'manual', reason, where: `grpc in ${CONFIG_FILE}`, line });

  const original = await readFile(file, 'utf8');
  const edited = addToArray(original, app);
  if (typeof edited !== 'string') return manual(edited.reason);
  const loaded = await loadCopy(config.root, edited).catch((err: unknown) => err as Error);
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
  if (uses.length !== 1) return { reason: uses.length === 0 ? `${CONFIG_FILE} does not set enabledApps` : `${CONFIG_FILE} names enabledApps ${uses.length} times` };
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

/** Loads `text` as the project's config (from a fresh file beside it: no module cache) and returns its enabledApps. */
async function loadCopy(root: string, text: string): Promise<readonly string[]> {
  const copy = join(root, `.cfg.config.startapp-${process.pid}-${Date.now()}.ts`);
  await writeFile(copy, text);
  try {
    const mod = (await import(pathToFileURL(copy).href)) as { default?: unknown };
    return resolveConfig(mod.default, { root, file: CONFIG_FILE, env: {} }).grpc.enabledApps;
  } finally {
    await rm(copy, { force: true });
  }
}
