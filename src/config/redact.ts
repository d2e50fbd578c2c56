import type { Setting } from './walk.ts';

/** A value as messages may show it: a database URL's password never reaches an error message. */
export function redact(setting: Setting | undefined, value: unknown): unknown {
  return setting?.meta.redact && typeof value === 'string' ? value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@') : value;
}
