import type { UserConfig } from '../config/types.ts';

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

function merge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const under = out[key];
    out[key] = isPlain(under) && isPlain(value) ? merge(under, value) : value;
  }
  return out;
}

/** Config layers merged, later over earlier: objects key by key, anything else (arrays too) replaced. */
export function mergeConfig(...layers: UserConfig[]): UserConfig {
  return layers.reduce<Plain>((acc, layer) => merge(acc, layer as Plain), {}) as UserConfig;
}
