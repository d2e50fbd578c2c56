// Environment variables over cfg.config.ts: each setting that names one in the schema (`env(...)`
// in schema*.ts) takes the variable's value when it is set and not empty. A bad value stops cfg
// and names the variable.
import type { ZodType } from 'zod';
import { CfgError } from '../errors.ts';
import { show } from './messages.ts';
import { redact } from './redact.ts';
import { SETTINGS, type Setting } from './walk.ts';

/** The settings an environment variable overrides, in the schema's order. */
export const ENV_SETTINGS: readonly (Setting & { meta: { env: string } })[] = SETTINGS.filter(
  (s): s is Setting & { meta: { env: string } } => s.meta.env !== undefined,
);

/** True when `schema` (under its default, nullable or union) takes values of zod type `type`. */
function takes(schema: ZodType, type: 'boolean' | 'number' | 'array'): boolean {
  const def = schema.def as { type: string; innerType?: ZodType; options?: ZodType[] };
  if (def.type === type) return true;
  if (def.innerType) return takes(def.innerType, type);
  return def.options?.some((o) => takes(o, type)) ?? false;
}

const FLAGS = new Map([
  ['1', true],
  ['0', false],
  ['true', true],
  ['false', false],
]);

/** The variable's text as the setting's value: a flag for a boolean, a number for digits where numbers go, a comma-separated list for a list. */
function fromText(setting: Setting, raw: string): unknown {
  if (takes(setting.schema, 'boolean')) return FLAGS.get(raw) ?? raw;
  if (takes(setting.schema, 'number') && /^\d+$/.test(raw)) return Number(raw);
  if (takes(setting.schema, 'array'))
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  return raw;
}

/** Sets, in `config` (fully defaulted), each setting whose variable `env` has. */
export function applyEnv(config: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const setting of ENV_SETTINGS) {
    const name = setting.meta.env;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const parsed = setting.schema.safeParse(fromText(setting, raw));
    if (!parsed.success) {
      const expected = takes(setting.schema, 'boolean') ? '1 or 0' : parsed.error.issues[0]!.message;
      throw new CfgError(
        'E_CONFIG_INVALID',
        `environment ${name}=${show(redact(setting, raw))} (for ${setting.name}) must be ${expected}.`,
        `Fix or unset ${name}.`,
      );
    }
    const parent = setting.path.slice(0, -1).reduce((o, k) => o[k] as Record<string, unknown>, config);
    parent[setting.path.at(-1)!] = parsed.data;
  }
}
