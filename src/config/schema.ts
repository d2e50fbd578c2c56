// The configuration, described once. From this schema come the types (types.ts), the defaults
// (defaults.ts), validation (resolve.ts, with messages.ts for the wording), and the environment
// variable overrides (env.ts): a setting is added here, with its doc, check, default and variable,
// and nowhere else. Sections are in schema-server.ts, schema-auth.ts and schema-grpc.ts.
import { type LogFormat, LEVELS } from '../log/logger.ts';
import { bool, int, oneOf, pattern, record, section } from './checks.ts';
import { env, settingMeta } from './meta.ts';
import { events } from './schema-events.ts';
import { grpc } from './schema-grpc.ts';

const LOG_FORMATS = ['auto', 'pretty', 'json'] as const satisfies readonly (LogFormat | 'auto')[];

export const database = section({
  /** "file:./var/cfg.sqlite3" (SQLite, the default) or "postgresql://...". Env: DATABASE_URL. */
  url: env(
    'DATABASE_URL',
    pattern(/^(file:|postgres(ql)?:\/\/)/, 'a "file:..." SQLite path or a "postgresql://..." URL')
      .default('file:./var/cfg.sqlite3')
      .register(settingMeta, { redact: true }),
  ),
  /** PostgreSQL pool size. Default: grpc.server.maxWorkers (null until resolved). */
  poolSize: int(1, 1000).nullable().default(null),
});

export const logging = section({
  /** Level for loggers not named in `levels`. Default "info". Env: CFG_LOG_LEVEL. */
  level: env('CFG_LOG_LEVEL', oneOf(LEVELS).default('info')),
  /** "auto": coloured on a terminal, JSON otherwise. Default "auto". Env: CFG_LOG_FORMAT. */
  format: env('CFG_LOG_FORMAT', oneOf(LOG_FORMATS).default('auto')),
  /** Per logger: `{ "grpc.discovery": "debug", "apps.crypto": "info" }`; a name covers its dotted children. Default {}. */
  levels: record('an object { loggerName: level }', oneOf(LEVELS)).default({}),
  /** One line per call (method, status, duration, peer). Default true. */
  logCalls: bool().default(true),
});

/** What cfg.config.ts exports by default: every section and setting optional. */
export const configSchema = section({
  grpc: grpc.prefault({}),
  database: database.prefault({}),
  logging: logging.prefault({}),
  /** `events`: the channel between the processes of a deployment (docs/events.md). */
  events: events.prefault({}),
});
