/** Arrays and plain objects holding no functions: configuration data, safe to freeze. */
function isPlainData(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && !Object.values(v).some((x) => typeof x === 'function');
}

/**
 * Freezes the configuration data in `o`, all the way down. Objects with functions (the project's
 * interceptors) are left as they were given.
 */
export function deepFreeze<T>(o: T): T {
  if (isPlainData(o) && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}
