// startTestServer: a project's apps served in-process on a free loopback port, on a database of the
// test's own, with typed clients and tokens for users: what Django's test client is to a view.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { upsertUser, type UserSpec } from '../auth/manage.ts';
import { mintAccessToken } from '../auth/tokens.ts';
import { createClient, type ClientOptions, type TypedClient } from '../client/create-client.ts';
import { resolveConfig } from '../config/resolve.ts';
import type { CfgConfig, UserConfig } from '../config/types.ts';
import { applyMigrations } from '../db/apply.ts';
import { createDb, type Db } from '../db/client.ts';
import { runSeeds } from '../db/seed.ts';
import { parseDatabaseUrl } from '../db/url.ts';
import { startServer, type RunningServer, type StartOptions } from '../server/start.ts';
import type { ServiceDefinition } from '../services/types.ts';
import { mergeConfig } from './merge.ts';

export interface TestServerOptions {
  /** The apps to serve (grpc.enabledApps). */
  apps: readonly string[];
  /** The project root (apps/, generated/, prisma/). Default: the current directory. */
  root?: string;
  /**
   * Settings over the test defaults (127.0.0.1, port 0, stubs not regenerated, monitor off, calls
   * not logged, a JWT secret of the server's own). cfg.config.ts is not read: a test states what it needs.
   */
  config?: UserConfig;
  /** "temp" (default): a new SQLite file with the project's migrations applied, removed by stop(). Or a database URL, used as it is. */
  database?: string;
  /** Run the apps' seeds (apps/NAME/seed.ts) before serving. Default false. */
  seed?: boolean;
  /** Extra interceptors per pipeline slot, as startServer takes them. */
  interceptors?: StartOptions['interceptors'];
  /** The environment the config reads (CFG_*). Default: none, so the shell's settings stay out. */
  env?: NodeJS.ProcessEnv;
}

/** A user of the test database. */
export interface TestUser {
  readonly id: number;
  readonly username: string;
}

/** createClient's options, and `user`: every call is made as that user (a token minted for them). */
export interface TestClientOptions extends ClientOptions {
  user?: TestUser | number;
}

export interface TestServer {
  readonly port: number;
  /** "127.0.0.1:PORT": what a client dials. */
  readonly address: string;
  /** The resolved config the server runs with. */
  readonly config: CfgConfig;
  /** What startServer returned (httpPort, serverId, the CfgServer). */
  readonly running: RunningServer;
  /** The database URL the server uses. */
  readonly databaseUrl: string;
  /** A typed client for one of the served services; closed by stop(). */
  client<D extends ServiceDefinition>(definition: D, options?: TestClientOptions): TypedClient<D>;
  /** Creates (or updates) a user, as cfg createuser does: a username, or flags, permissions and groups. */
  user(spec: string | UserSpec): Promise<TestUser>;
  /** An access token for the user, as cfg token mints it (default lifetime: an hour, within grpc.auth.maxTokenLifetimeSeconds). */
  token(user: TestUser | number, ttlSeconds?: number): string;
  /** A database client of the test's own on the server's database, to arrange data and check it. */
  db(): Promise<Db>;
  /** Stops the server (a graceful drain), closes the clients and removes a temp database. */
  stop(): Promise<void>;
}

const temps = new Set<string>();
process.on('exit', () => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Starts the apps as `cfg rungrpc` would, in this process; resolves once they answer. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const root = resolve(options.root ?? process.cwd());
  let temp: string | undefined;
  let url = options.database;
  if (url === undefined || url === 'temp') {
    temp = mkdtempSync(join(tmpdir(), 'cfg-test-db-'));
    temps.add(temp);
    url = `file:${join(temp, 'test.sqlite3')}`;
  }
  const defaults: UserConfig = {
    grpc: {
      server: { host: '127.0.0.1', port: 0 },
      proto: { autoGenerate: false },
      auth: { jwtSecretKey: randomBytes(32).toString('hex') },
      monitor: { enabled: false },
    },
    logging: { logCalls: false },
  };
  const wanted = mergeConfig(defaults, options.config ?? {}, { grpc: { enabledApps: [...options.apps] }, database: { url } });
  const config = resolveConfig(wanted, { root, env: options.env ?? {} });
  const target = parseDatabaseUrl(url, root);
  let admin: Promise<Db> | undefined;
  const db = () => (admin ??= createDb(target, { root, poolSize: 1 }));
  const removeTemp = () => {
    if (temp) rmSync(temp, { recursive: true, force: true });
    if (temp) temps.delete(temp);
  };

  let running: RunningServer;
  try {
    if (temp) await applyMigrations(root, target);
    if (options.seed) await runSeeds(config, db);
    running = await startServer(config, { interceptors: options.interceptors });
  } catch (err) {
    await admin?.then((d) => d.$disconnect()).catch(() => {});
    removeTemp();
    throw err;
  }

  const wildcard: Record<string, string> = { '0.0.0.0': '127.0.0.1', '[::]': '[::1]', '::': '[::1]' };
  const address = `${wildcard[config.grpc.server.host] ?? config.grpc.server.host}:${running.port}`;
  const clients: Array<{ close(): void }> = [];
  let stopped: Promise<void> | undefined;
  const token = (user: TestUser | number, ttlSeconds = Math.min(3600, config.grpc.auth.maxTokenLifetimeSeconds)) =>
    mintAccessToken(config, typeof user === 'number' ? user : user.id, ttlSeconds);

  return {
    port: running.port,
    address,
    config,
    running,
    databaseUrl: url,
    client(definition, { user, ...clientOptions } = {}) {
      const client = createClient(definition, address, user === undefined ? clientOptions : { ...clientOptions, token: token(user) });
      clients.push(client);
      return client;
    },
    async user(spec) {
      const { user } = await upsertUser(await db(), typeof spec === 'string' ? { username: spec } : spec);
      return user;
    },
    token,
    db,
    stop() {
      stopped ??= (async () => {
        for (const client of clients) client.close();
        try {
          await running.stop();
        } finally {
          await admin?.then((d) => d.$disconnect()).catch(() => {});
          removeTemp();
        }
      })();
      return stopped;
    },
  };
}
