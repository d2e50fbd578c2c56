// A test bed for the HTTP side port: the probe fixture app served by the real startServer with
// grpc.http on (port 0), on a migrated SQLite file or PostgreSQL schema of its own, with real
// users (staff "ops", who may manage other users' API keys; plain "bob"), tokens, API keys, a
// gRPC client and a small HTTP client.
import jwt from 'jsonwebtoken';
import { upsertUser } from '../../src/auth/manage.ts';
import { resolveConfig } from '../../src/config/resolve.ts';
import { applyMigrations } from '../../src/db/apply.ts';
import { createDb, type Db } from '../../src/db/client.ts';
import { startServer, type RunningServer } from '../../src/server/start.ts';
import { APPS, RawClient, SECRET, sources } from '../fixtures/auth/env.ts';
import type { AnyDefinition } from '../fixtures/client.ts';
import { importFrom, makeProject, merge, REPO, type Json, type Project } from '../fixtures/project.ts';
import { testDatabase, type Provider, type TestDatabase } from './db.ts';

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
  /** The body as JSON (undefined when it is not JSON). */
  json: Record<string, unknown> & { error?: string; message?: string };
}

export interface OpsBed {
  provider: Provider;
  project: Project;
  database: TestDatabase;
  /** A Prisma client of the test's own on the same database (for set-up and checks). */
  db: Db;
  ids: { ops: number; bob: number };
  server: RunningServer;
  greeter: RawClient;
  token(userId: number): string;
  /** A request to the side port; `auth` is sent as `authorization: Bearer <auth>`. */
  http(path: string, init?: { method?: string; auth?: string; headers?: Record<string, string>; body?: string }): Promise<HttpReply>;
  close(): Promise<void>;
}

/** Starts the bed; `grpc` is merged over the bed's grpc config (http on, auth on with requireAuth). */
export async function opsBed(provider: Provider, grpc: Json = {}): Promise<OpsBed> {
  const project = await makeProject({ files: await sources(APPS) });
  const database = await testDatabase(provider, project.root, 'ops');
  await applyMigrations(REPO, database.target);
  const db = await createDb(database.target, { poolSize: 2 });
  const ops = (await upsertUser(db, { username: 'ops', staff: true, perm: ['cfg.manage_api_keys'] })).user.id;
  const bob = (await upsertUser(db, { username: 'bob' })).user.id;
  const config = resolveConfig(
    merge(
      {
        grpc: {
          enabledApps: ['probe'],
          server: { host: '127.0.0.1', port: 0, enableReflection: false, enableHealthCheck: false, shutdownGraceMs: 2000 },
          http: { enabled: true, host: '127.0.0.1', port: 0 },
          proto: { autoGenerate: false },
          auth: { enabled: true, requireAuth: true, jwtSecretKey: SECRET },
        },
        logging: { logCalls: false, level: 'silent' },
      },
      { grpc },
    ),
    { root: project.root, env: { DATABASE_URL: database.url } },
  );
  const server = await startServer(config);
  const definition = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  const greeter = new RawClient(definition, `127.0.0.1:${server.port}`);
  const base = `http://127.0.0.1:${server.httpPort}`;
  return {
    provider,
    project,
    database,
    db,
    ids: { ops, bob },
    server,
    greeter,
    token(userId) {
      const now = Math.floor(Date.now() / 1000);
      return jwt.sign(
        { token_type: 'access', exp: now + 300, iat: now, jti: `j${Math.random().toString(36).slice(2)}`, user_id: userId },
        SECRET,
        { algorithm: 'HS256' },
      );
    },
    async http(path, init = {}) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.auth) headers.authorization = `Bearer ${init.auth}`;
      const res = await fetch(base + path, { method: init.method ?? 'GET', headers, body: init.body });
      const text = await res.text();
      let json: HttpReply['json'];
      try {
        json = JSON.parse(text) as HttpReply['json'];
      } catch {
        json = undefined as unknown as HttpReply['json'];
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async close() {
      greeter.close();
      await server.stop();
      await db.$disconnect();
      await database.drop();
      await project.remove();
    },
  };
}
