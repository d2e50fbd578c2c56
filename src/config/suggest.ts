// "Did you mean ...?" for a key cfg.config.ts sets that no setting has.
import { KNOWN_PATHS } from './walk.ts';

const loose = (key: string) => key.toLowerCase().replace(/[_-]/g, '');

/** Edits (insert, delete, replace, swap two neighbours) turning `a` into `b`. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The setting an unknown `key` in section `prefix` ("" at the top) was probably meant to be: a
 * snake_case or mistyped sibling, or the same name elsewhere. null when nothing is close.
 */
export function suggest(prefix: string, key: string, siblings: readonly string[]): string | null {
  const at = (k: string) => (prefix ? `${prefix}.${k}` : k);
  const same = siblings.find((k) => loose(k) === loose(key));
  if (same) return at(same);
  const near = siblings.find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= (key.length > 5 ? 2 : 1));
  if (near) return at(near);
  return KNOWN_PATHS.find((p) => loose(p.slice(p.lastIndexOf('.') + 1)) === loose(key)) ?? null;
}

/** The hint for an unknown key at `path`. */
export function unknownKeyHint(prefix: string, key: string, siblings: readonly string[], path: string): string {
  const guess = suggest(prefix, key, siblings);
  if (!guess) return `Remove ${path}; docs/configuration.md lists every setting.`;
  return `Did you mean ${guess}?${key.includes('_') ? " (cfg spells the guide's snake_case names in camelCase.)" : ''}`;
}
