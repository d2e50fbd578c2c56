// The building blocks of the config schema. Each carries what it allows, in the words that
// complete an error's "it must be ...": every issue zod raises for it has that text as its message
// (messages.ts puts the field, the value and the hint around it).
import type { ZodRawShape, ZodType } from 'zod';
import { type ConfigInterceptor, isInterceptorObject } from './interceptor.ts';
import { z } from './zod.ts';

/** The same message for every issue a schema or check raises. */
const says = (expected: string) => ({ error: expected });

export const bool = () => z.boolean(says('a boolean (true or false)'));
export const str = () => z.string(says('a string'));
export const strOrNull = () => z.string(says('a string or null')).nullable();

export function nonEmpty() {
  const e = says('a non-empty string');
  return z.string(e).check(z.minLength(1, e));
}

export function int(min: number, max: number, expected = `an integer from ${min} to ${max}`) {
  const e = says(expected);
  // One .check() with both bounds: each of .min() and .max() would copy the schema (start-up time).
  return z.int(e).check(z.gte(min, e), z.lte(max, e));
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, says(`one of ${values.map((v) => JSON.stringify(v)).join(', ')}`));
}

/** A string matching `re`. */
export function pattern(re: RegExp, expected: string) {
  const e = says(expected);
  return z.string(e).check(z.regex(re, e));
}

const MODULE_REF = 'a module reference "path/to/module#exportName"';
export const moduleRef = () => pattern(/^[^#]+#[A-Za-z_$][\w$]*$/, MODULE_REF);

export function list<T extends ZodType>(item: T) {
  return z.array(item, says('an array'));
}

/** A list whose items differ; a repeated item is reported where it repeats. */
export function uniqueList<T extends ZodType>(item: T) {
  return list(item).superRefine(
    (items, ctx) => {
      items.forEach((x, i) => {
        const first = items.indexOf(x);
        if (first !== i) ctx.addIssue({ code: 'custom', message: `listed once (it is also item ${first})`, path: [i], input: x });
      });
    },
    // Also when an item is bad: the first problem in the list is reported, whichever it is.
    { when: (payload) => Array.isArray(payload.value) },
  );
}

/** A plain object whose every value is a `value`; `shape` describes the object ("an object { label: ... }"). */
export function record<T extends ZodType>(shape: string, value: T) {
  return z.record(z.string(), value, says(shape));
}

/** A section: an object of settings (each with a default: test/config-schema.test.ts), no other key allowed. */
export function section<S extends ZodRawShape>(shape: S) {
  return z.strictObject(shape, says(`an object ({ ${Object.keys(shape).join(', ')} })`));
}

const LABEL = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const APP_LABEL = 'an app label: the folder name under apps/ ("crypto"), not a dotted or slashed path ("apps.crypto")';
/** A folder name under apps/; a dotted or slashed path gets a hint naming the label it ends with. */
export function appLabel() {
  return z.string(says(APP_LABEL)).superRefine((v, ctx) => {
    if (LABEL.test(v)) return;
    const last = v
      .split(/[./\\]/)
      .filter(Boolean)
      .pop();
    const hint = last && LABEL.test(last) ? `Use the label "${last}": cfg looks for apps/${last}/ itself.` : undefined;
    ctx.addIssue({ code: 'custom', message: APP_LABEL, input: v, params: hint ? { hint } : undefined });
  });
}

const INTERCEPTOR = `${MODULE_REF} or an interceptor object { name, intercept(ctx, next) } (or with onStart/onEnd)`;
/** A module reference "path#export", or an interceptor object given as it is (not copied). */
export function interceptorEntry() {
  return z.union([moduleRef(), z.custom<ConfigInterceptor>(isInterceptorObject, says(INTERCEPTOR))], {
    error: (issue) => (typeof issue.input === 'string' ? MODULE_REF : INTERCEPTOR),
  });
}
