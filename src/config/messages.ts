// zod's issues with cfg.config.ts, in cfg's words: the field, the value as written, what is allowed
// (the issue's message, see checks.ts) and what to do. One error: the first problem in the
// file's own order, so that what is reported does not depend on the order of the schema.
import type { core } from 'zod';
import { CfgError } from '../errors.ts';
import { redact } from './redact.ts';
import { unknownKeyHint } from './suggest.ts';
import { locate } from './walk.ts';

type Path = readonly PropertyKey[];

/** A value as the user wrote it, kept short: "70000", "\"apps.crypto\"", "NaN", "a function". */
export function show(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number' || typeof v === 'symbol' || v === undefined) return String(v);
  let text: string;
  try {
    text =
      JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'function' ? '[function]' : x)) ?? String(v);
  } catch {
    text = Object.prototype.toString.call(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Steps inside a setting's value: "[0]", ".crypto", '["my app"]'. */
const inside = (path: Path) =>
  path
    .map((k) =>
      typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(String(k)) ? `.${String(k)}` : `[${JSON.stringify(String(k))}]`,
    )
    .join('');

function valueAt(input: unknown, path: Path): unknown {
  let v = input;
  for (const k of path) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Where `path` is in the input: the index of each step among its siblings, for ordering. */
function position(input: unknown, path: Path): number[] {
  let v = input;
  return path.map((k) => {
    const at = Array.isArray(v) ? Number(k) : typeof v === 'object' && v !== null ? Object.keys(v).indexOf(String(k)) : -1;
    v = valueAt(v, [k]);
    return at < 0 ? Number.MAX_SAFE_INTEGER : at;
  });
}

function before(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

interface Problem {
  path: Path;
  /** A key no setting has; otherwise a bad value, `message` saying what is allowed. */
  unknown: boolean;
  message: string;
  hint?: string;
}

/** The issues as problems, one per unknown key, in the input's order (zod's order among equals). */
function problems(issues: readonly core.$ZodIssue[], input: unknown): Problem[] {
  const list = issues.flatMap((issue): Problem[] => {
    if (issue.code === 'unrecognized_keys') {
      // Unknown keys of a section; those of a setting checked as one piece (tls) make a bad value.
      const found = locate(issue.path);
      if (found && 'shape' in found) return issue.keys.map((key) => ({ path: [...issue.path, key], unknown: true, message: '' }));
    }
    const hint = issue.code === 'custom' ? (issue.params?.hint as string | undefined) : undefined;
    return [{ path: issue.path, unknown: false, message: issue.message, hint }];
  });
  const at = new Map(list.map((p) => [p, position(input, p.path)]));
  return list.sort((a, b) => before(at.get(a)!, at.get(b)!));
}

const invalid = (file: string, where: string, message: string, hint = `Fix ${where} in ${file}.`) =>
  new CfgError('E_CONFIG_INVALID', `${file}: ${where} ${message}`, hint);

/** The error for the first of `issues` zod found in `input` (what cfg.config.ts exports), read from `file`. */
export function configError(issues: readonly core.$ZodIssue[], input: unknown, file: string): CfgError {
  const first = problems(issues, input)[0]!;
  const found = locate(first.unknown ? first.path.slice(0, -1) : first.path);
  if (first.unknown) {
    const key = String(first.path.at(-1));
    const prefix = first.path.slice(0, -1).join('.');
    const where = first.path.join('.');
    const siblings = found && 'shape' in found ? Object.keys(found.shape) : [];
    const accepts = `${prefix ? `${prefix} accepts` : 'the config accepts'} ${siblings.join(', ')}`;
    const message = `is not a known setting (set to ${show(valueAt(input, first.path))}); ${accepts}.`;
    return invalid(file, where, message, unknownKeyHint(prefix, key, siblings, where));
  }
  if (found && 'setting' in found) {
    const { setting, depth } = found;
    // A setting checked as one piece is reported as a whole; otherwise where inside it the issue is.
    const path = setting.meta.expected ? first.path.slice(0, depth) : first.path;
    const value = valueAt(input, path);
    const expected = setting.meta.expected?.(value) ?? first.message;
    return invalid(
      file,
      setting.name + inside(path.slice(depth)),
      `is ${show(redact(setting, value))}; it must be ${expected}.`,
      first.hint,
    );
  }
  // A section that is not an object.
  const where = first.path.length ? first.path.join('.') : 'the default export';
  return invalid(file, where, `is ${show(valueAt(input, first.path))}; it must be ${first.message}.`);
}
