// cfg.config.ts: the guide's defaults, a validation error naming field, value and what is allowed
// for each kind of mistake, environment overrides, and loading the file from disk.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CfgError } from '../src/errors.ts';
import { findProjectRoot, loadConfig } from '../src/config/load.ts';
import { resolveConfig } from '../src/config/resolve.ts';
import { REPO, tempDir } from './fixtures/project.ts';

const resolve = (input: unknown, env: NodeJS.ProcessEnv = {}) => resolveConfig(input, { root: '/srv/app', env });

/** The CfgError resolving `input` throws. */
function failure(input: unknown, env: NodeJS.ProcessEnv = {}): CfgError {
  try {
    resolve(input, env);
  } catch (err) {
    assert.ok(err instanceof CfgError, String(err));
    assert.equal(err.code, 'E_CONFIG_INVALID');
    return err;
  }
  assert.fail(`${JSON.stringify(input)} was accepted`);
}

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('defaults', () => {
  test("an empty config gets the guide's defaults, camelCased", () => {
    const { grpc } = resolve({});
    assert.equal(grpc.enabled, true);
    assert.equal(grpc.server.host, '[::]');
    assert.equal(grpc.server.port, 50051);
    assert.equal(grpc.server.maxWorkers, 10);
    assert.equal(grpc.server.enableReflection, true);
    assert.equal(grpc.server.enableHealthCheck, true);
    assert.equal(grpc.autoRegisterApps, true);
    assert.deepEqual(grpc.enabledApps, []);
    assert.deepEqual(grpc.customServices, {});
    assert.equal(grpc.handlersHook, null);
    assert.deepEqual(grpc.proto, { autoGenerate: true, protoDir: 'proto', outputDir: 'generated', packagePrefix: '', es: false });
    assert.deepEqual(
      { enabled: grpc.web.enabled, host: grpc.web.host, port: grpc.web.port, cors: grpc.web.cors },
      { enabled: false, host: '[::]', port: 8080, cors: { allowedOrigins: [], allowedHeaders: [], maxAgeSeconds: 7200 } },
    );
    assert.equal(grpc.auth.enabled, true);
    assert.equal(grpc.auth.requireAuth, false);
    assert.equal(grpc.auth.jwtAlgorithm, 'HS256');
    assert.equal(grpc.auth.jwtSecretKey, null, 'the secret comes from CFG_JWT_SECRET or the project secret');
  });

  test('the database pool follows maxWorkers unless set', () => {
    assert.equal(resolve({}).database.poolSize, 10);
    assert.equal(resolve({ grpc: { server: { maxWorkers: 32 } } }).database.poolSize, 32);
    assert.equal(resolve({ grpc: { server: { maxWorkers: 32 } }, database: { poolSize: 5 } }).database.poolSize, 5);
  });

  test("given values replace defaults field by field; the result is frozen, the user's objects are not", () => {
    const apps = ['crypto', 'trading'];
    const config = resolve({ grpc: { server: { port: 0 }, enabledApps: apps, auth: { requireAuth: true } } });
    assert.equal(config.grpc.server.port, 0);
    assert.equal(config.grpc.server.host, '[::]', 'siblings keep their defaults');
    assert.deepEqual(config.grpc.enabledApps, apps);
    assert.equal(config.grpc.auth.requireAuth, true);
    assert.equal(config.grpc.auth.jwtAlgorithm, 'HS256');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.grpc.server) && Object.isFrozen(config.grpc.enabledApps));
    assert.throws(() => {
      (config.grpc.server as { port: number }).port = 1;
    }, TypeError);
    assert.ok(!Object.isFrozen(apps), 'the array from cfg.config.ts is copied, not frozen');
  });

  test("the repository's own cfg.config.ts is valid and serves the crypto app", async () => {
    const config = await loadConfig({ cwd: REPO, env: {} });
    assert.equal(config.root, REPO);
    assert.equal(config.grpc.enabledApps[0], 'crypto', 'crypto first; cfg startapp adds apps after it');
    assert.equal(config.grpc.server.port, 50051);
  });
});

describe('validation: the error names the field, the bad value and what is allowed', () => {
  const cases: Array<[string, unknown, string]> = [
    ['port out of range', { grpc: { server: { port: 70000 } } }, 'grpc.server.port is 70000; it must be an integer from 0 to 65535.'],
    ['port as a string', { grpc: { server: { port: '50051' } } }, 'grpc.server.port is "50051"; it must be an integer from 0 to 65535.'],
    ['negative port', { grpc: { server: { port: -1 } } }, 'grpc.server.port is -1; it must be an integer from 0 to 65535.'],
    [
      'fractional maxWorkers',
      { grpc: { server: { maxWorkers: 2.5 } } },
      'grpc.server.maxWorkers is 2.5; it must be an integer from 1 to 100000.',
    ],
    [
      'NaN is shown as NaN',
      { grpc: { server: { maxWorkers: Number.NaN } } },
      'grpc.server.maxWorkers is NaN; it must be an integer from 1 to 100000.',
    ],
    ['zero maxWorkers', { grpc: { server: { maxWorkers: 0 } } }, 'grpc.server.maxWorkers is 0; it must be an integer from 1 to 100000.'],
    ['empty host', { grpc: { server: { host: '' } } }, 'grpc.server.host is ""; it must be a non-empty string.'],
    ['boolean as a string', { grpc: { enabled: 'yes' } }, 'grpc.enabled is "yes"; it must be a boolean (true or false).'],
    [
      'reflection as a number',
      { grpc: { server: { enableReflection: 1 } } },
      'grpc.server.enableReflection is 1; it must be a boolean (true or false).',
    ],
    [
      'dotted app path',
      { grpc: { enabledApps: ['apps.crypto'] } },
      'grpc.enabledApps[0] is "apps.crypto"; it must be an app label: the folder name under apps/ ("crypto"), not a dotted or slashed path ("apps.crypto").',
    ],
    [
      'slashed app path',
      { grpc: { enabledApps: ['crypto', 'apps/trading'] } },
      'grpc.enabledApps[1] is "apps/trading"; it must be an app label',
    ],
    [
      'an app listed twice',
      { grpc: { enabledApps: ['crypto', 'crypto'] } },
      'grpc.enabledApps[1] is "crypto"; it must be listed once (it is also item 0).',
    ],
    ['enabledApps as a string', { grpc: { enabledApps: 'crypto' } }, 'grpc.enabledApps is "crypto"; it must be an array.'],
    [
      'customServices without an export',
      { grpc: { customServices: { crypto: 'apps/crypto/grpc_services' } } },
      'grpc.customServices.crypto is "apps/crypto/grpc_services"; it must be a module reference "path/to/module#exportName".',
    ],
    [
      'handlersHook as a function',
      { grpc: { handlersHook: () => [] } },
      'grpc.handlersHook is a function; it must be a module reference "path/to/module#exportName".',
    ],
    [
      'unknown algorithm',
      { grpc: { auth: { jwtAlgorithm: 'none' } } },
      'grpc.auth.jwtAlgorithm is "none"; it must be one of "HS256", "HS384", "HS512", "RS256"',
    ],
    ['empty protoDir', { grpc: { proto: { protoDir: '' } } }, 'grpc.proto.protoDir is ""; it must be a non-empty string.'],
    [
      'packagePrefix not a package name',
      { grpc: { proto: { packagePrefix: 'my-api' } } },
      'grpc.proto.packagePrefix is "my-api"; it must be a proto package name ("api", "acme.api") or "".',
    ],
    [
      'token lifetime in hours, not seconds',
      { grpc: { auth: { maxTokenLifetimeSeconds: 24 } } },
      'grpc.auth.maxTokenLifetimeSeconds is 24; it must be an integer from 60 to 31536000.',
    ],
    [
      'allowTokensWithoutExp as a string',
      { grpc: { auth: { allowTokensWithoutExp: 'no' } } },
      'grpc.auth.allowTokensWithoutExp is "no"; it must be a boolean (true or false).',
    ],
    [
      'public method not a full name',
      { grpc: { auth: { publicMethods: ['GetCoin'] } } },
      'grpc.auth.publicMethods[0] is "GetCoin"; it must be a full method name "/package.Service/Method".',
    ],
    [
      'database of another kind, password hidden',
      { database: { url: 'mysql://app:hunter2@db/app' } },
      'database.url is "mysql://app:***@db/app"; it must be a "file:..." SQLite path or a "postgresql://..." URL.',
    ],
    [
      'log level per logger',
      { logging: { levels: { 'grpc.server': 'loud' } } },
      'logging.levels["grpc.server"] is "loud"; it must be one of "debug", "info", "warn", "error", "silent".',
    ],
    ['a section that is not an object', { grpc: { server: true } }, 'grpc.server is true; it must be an object ({ host, port, maxWorkers,'],
    ['null for a section', { grpc: { auth: null } }, 'grpc.auth is null; it must be an object ({ enabled, requireAuth, jwtAlgorithm,'],
    ['a default export that is not an object', 42, 'the default export is 42; it must be an object ({ grpc, database, logging, events }).'],
    ['a null default export', null, 'the default export is null; it must be an object ({ grpc, database, logging, events }).'],
    [
      'processes neither a count nor "auto"',
      { grpc: { server: { processes: 'all' } } },
      'grpc.server.processes is "all"; it must be an integer from 1 to 256, or "auto".',
    ],
    [
      'compression not supported',
      { grpc: { server: { compression: 'brotli' } } },
      'grpc.server.compression is "brotli"; it must be one of "none", "gzip", "deflate".',
    ],
    [
      'an interceptor object without intercept',
      { grpc: { server: { interceptors: [{ name: 'audit' }] } } },
      'grpc.server.interceptors[0] is {"name":"audit"}; it must be a module reference "path/to/module#exportName" or an interceptor object { name, intercept(ctx, next) } (or with onStart/onEnd).',
    ],
    [
      'tls with an unknown key',
      { grpc: { server: { tls: { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem' } } } },
      'grpc.server.tls is {"cert":"c.pem","key":"k.pem","ca":"ca.pem"}; it must be { cert, key, clientCa? } without ca.',
    ],
    [
      'a message limit below 1 KiB',
      { grpc: { server: { maxReceiveMessageLength: 10 } } },
      'grpc.server.maxReceiveMessageLength is 10; it must be an integer from 1024 to 104857600.',
    ],
    [
      'no connection allowed',
      { grpc: { server: { maxConnections: 0 } } },
      'grpc.server.maxConnections is 0; it must be an integer from 1 to 1000000.',
    ],
    [
      'a handshake timeout of 0',
      { grpc: { server: { handshakeTimeoutMs: 0 } } },
      'grpc.server.handshakeTimeoutMs is 0; it must be an integer from 100 to 600000.',
    ],
    [
      'unbounded streams per connection',
      { grpc: { server: { maxConcurrentStreams: 2 ** 32 - 1 } } },
      'grpc.server.maxConcurrentStreams is 4294967295; it must be an integer from 1 to 2147483647.',
    ],
    [
      'a side port header timeout in seconds',
      { grpc: { http: { headersTimeoutMs: 10 } } },
      'grpc.http.headersTimeoutMs is 10; it must be an integer from 100 to 600000.',
    ],
    ['HTTP side port out of range', { grpc: { http: { port: 70000 } } }, 'grpc.http.port is 70000; it must be an integer from 0 to 65535.'],
    [
      'a CORS origin with a path',
      { grpc: { web: { cors: { allowedOrigins: ['https://app.example.com/'] } } } },
      'grpc.web.cors.allowedOrigins[0] is "https://app.example.com/"; it must be an origin "https://app.example.com" (no path), "https://*.example.com" or "*".',
    ],
    [
      'a CORS header with a space',
      { grpc: { web: { cors: { allowedHeaders: ['x request'] } } } },
      'grpc.web.cors.allowedHeaders[0] is "x request"; it must be a header name ("x-request-id").',
    ],
    [
      'HTTP side port as a string',
      { grpc: { http: { port: '8090' } } },
      'grpc.http.port is "8090"; it must be an integer from 0 to 65535.',
    ],
    [
      'HTTP side port switch as a string',
      { grpc: { http: { enabled: 'yes' } } },
      'grpc.http.enabled is "yes"; it must be a boolean (true or false).',
    ],
    ['empty HTTP host', { grpc: { http: { host: '' } } }, 'grpc.http.host is ""; it must be a non-empty string.'],
    [
      'grpc.http not an object',
      { grpc: { http: true } },
      'grpc.http is true; it must be an object ({ enabled, host, port, publicMetrics, headersTimeoutMs, idleTimeoutMs, maxConnections }).',
    ],
  ];
  for (const [name, input, message] of cases) {
    test(name, () => {
      const err = failure(input);
      assert.ok(err.message.startsWith(`cfg.config.ts: ${message}`), `got: ${err.message}`);
      assert.ok(err.hint, 'a hint says what to do');
    });
  }

  test('an interceptor object is accepted as it is (not copied, not frozen)', () => {
    const audit = { name: 'audit', intercept: async (_ctx: unknown, next: (ctx: unknown) => Promise<void>) => next(_ctx) };
    const config = resolve({ grpc: { server: { interceptors: ['api/audit#audit', audit] } } });
    assert.equal(config.grpc.server.interceptors[1], audit);
    assert.ok(!Object.isFrozen(audit));
  });

  test('a dotted app path suggests the label', () => {
    assert.equal(failure({ grpc: { enabledApps: ['apps.crypto'] } }).hint, 'Use the label "crypto": cfg looks for apps/crypto/ itself.');
  });
});

describe('validation: unknown keys', () => {
  const cases: Array<[string, unknown, string, string]> = [
    [
      'a typo',
      { grpc: { server: { prot: 70000 } } },
      'grpc.server.prot is not a known setting (set to 70000); grpc.server accepts host, port, maxWorkers',
      'Did you mean grpc.server.port?',
    ],
    [
      "the guide's snake_case",
      { grpc: { enabled_apps: ['crypto'] } },
      'grpc.enabled_apps is not a known setting (set to ["crypto"]); grpc accepts enabled, server, http, autoRegisterApps, enabledApps',
      "Did you mean grpc.enabledApps? (cfg spells the guide's snake_case names in camelCase.)",
    ],
    [
      'a setting in the wrong section',
      { grpc: { port: 50051 } },
      'grpc.port is not a known setting (set to 50051); grpc accepts enabled, server,',
      'Did you mean grpc.server.port?',
    ],
    [
      'a grpc setting at the top level',
      { enabledApps: ['crypto'] },
      'enabledApps is not a known setting (set to ["crypto"]); the config accepts grpc, database, logging, events.',
      'Did you mean grpc.enabledApps?',
    ],
    [
      'root is not settable',
      { root: '/elsewhere' },
      'root is not a known setting (set to "/elsewhere"); the config accepts grpc, database, logging, events.',
      'Remove root; docs/configuration.md lists every setting.',
    ],
    [
      'nothing like it',
      { grpc: { auth: { magic: true } } },
      'grpc.auth.magic is not a known setting (set to true); grpc.auth accepts enabled, requireAuth,',
      'Remove grpc.auth.magic; docs/configuration.md lists every setting.',
    ],
  ];
  for (const [name, input, message, hint] of cases) {
    test(name, () => {
      const err = failure(input);
      assert.ok(err.message.startsWith(`cfg.config.ts: ${message}`), `got: ${err.message}`);
      assert.equal(err.hint, hint);
    });
  }
});

describe('environment overrides', () => {
  test('what a deployment changes: port, host, processes, database URL, JWT secret and keys, logging', () => {
    const file = { grpc: { server: { host: '127.0.0.1', port: 50051 } }, database: { url: 'file:./var/x.sqlite3' } };
    const config = resolve(file, {
      CFG_GRPC_PORT: '6000',
      CFG_GRPC_HOST: '0.0.0.0',
      CFG_GRPC_PROCESSES: 'auto',
      DATABASE_URL: 'postgresql://root@127.0.0.1:5432/test',
      CFG_JWT_SECRET: 'from-env',
      CFG_JWT_PUBLIC_KEY: '/run/keys/jwt.pub',
      CFG_JWT_PRIVATE_KEY: '/run/keys/jwt.pem',
      CFG_LOG_LEVEL: 'warn',
      CFG_LOG_FORMAT: 'json',
    });
    assert.equal(config.grpc.server.port, 6000, 'the environment beats the file');
    assert.equal(config.grpc.server.host, '0.0.0.0');
    assert.equal(config.grpc.server.processes, 'auto');
    assert.equal(config.database.url, 'postgresql://root@127.0.0.1:5432/test');
    assert.equal(config.grpc.auth.jwtSecretKey, 'from-env');
    assert.equal(config.grpc.auth.jwtPublicKey, '/run/keys/jwt.pub');
    assert.equal(config.grpc.auth.jwtPrivateKey, '/run/keys/jwt.pem');
    assert.equal(config.logging.level, 'warn');
    assert.equal(config.logging.format, 'json');
  });

  test('a list setting takes a comma-separated variable', () => {
    const config = resolve({}, { CFG_WEB_CORS_ORIGINS: 'https://a.example, https://*.b.example,', CFG_WEB: '1', CFG_WEB_PORT: '0' });
    assert.deepEqual(config.grpc.web.cors.allowedOrigins, ['https://a.example', 'https://*.b.example']);
    assert.equal(config.grpc.web.enabled, true);
    assert.equal(config.grpc.web.port, 0);
  });

  test("unset or empty variables leave the file's values", () => {
    const config = resolve({ grpc: { server: { port: 7000 } } }, { CFG_GRPC_PORT: '', CFG_GRPC_HOST: undefined });
    assert.equal(config.grpc.server.port, 7000);
    assert.equal(config.grpc.server.host, '[::]');
  });

  const bad: Array<[NodeJS.ProcessEnv, string]> = [
    [{ CFG_GRPC_PORT: '70000' }, 'environment CFG_GRPC_PORT="70000" (for grpc.server.port) must be an integer from 0 to 65535.'],
    [{ CFG_GRPC_PORT: 'http' }, 'environment CFG_GRPC_PORT="http" (for grpc.server.port) must be an integer from 0 to 65535.'],
    [
      { CFG_GRPC_PROCESSES: '0' },
      'environment CFG_GRPC_PROCESSES="0" (for grpc.server.processes) must be an integer from 1 to 256, or "auto".',
    ],
    [
      { DATABASE_URL: 'mysql://app:hunter2@db/app' },
      'environment DATABASE_URL="mysql://app:***@db/app" (for database.url) must be a "file:..." SQLite path or a "postgresql://..." URL.',
    ],
    [
      { CFG_LOG_LEVEL: 'verbose' },
      'environment CFG_LOG_LEVEL="verbose" (for logging.level) must be one of "debug", "info", "warn", "error", "silent".',
    ],
    [{ CFG_HTTP_PORT: '70000' }, 'environment CFG_HTTP_PORT="70000" (for grpc.http.port) must be an integer from 0 to 65535.'],
    [{ CFG_HTTP_PORT: 'web' }, 'environment CFG_HTTP_PORT="web" (for grpc.http.port) must be an integer from 0 to 65535.'],
    [{ CFG_HTTP: 'maybe' }, 'environment CFG_HTTP="maybe" (for grpc.http.enabled) must be 1 or 0.'],
    [
      { CFG_WEB_CORS_ORIGINS: 'https://a.example, ftp://b' },
      'environment CFG_WEB_CORS_ORIGINS="https://a.example, ftp://b" (for grpc.web.cors.allowedOrigins) must be an origin "https://app.example.com" (no path), "https://*.example.com" or "*".',
    ],
  ];
  for (const [env, message] of bad) {
    test(`a bad ${Object.keys(env)[0]} is refused by name`, () => {
      const err = failure({}, env);
      assert.equal(err.message, message);
      assert.equal(err.hint, `Fix or unset ${Object.keys(env)[0]}.`);
    });
  }
});

describe('loading cfg.config.ts', () => {
  async function project(config: string | null): Promise<string> {
    const dir = await tempDir('cfg-config-');
    dirs.push(dir);
    await writeFile(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
    if (config !== null) await writeFile(join(dir, 'cfg.config.ts'), config);
    return dir;
  }
  const define = `import { defineConfig } from '${join(REPO, 'src', 'index.ts')}';\n`;

  test('found from a subfolder; errors name the file', async () => {
    const dir = await project(`${define}export default defineConfig({ grpc: { server: { port: 70000 } } });\n`);
    await mkdir(join(dir, 'apps', 'crypto'), { recursive: true });
    assert.equal(findProjectRoot(join(dir, 'apps', 'crypto')), dir);
    await assert.rejects(loadConfig({ cwd: join(dir, 'apps', 'crypto'), env: {} }), (err: CfgError) => {
      assert.equal(err.code, 'E_CONFIG_INVALID');
      assert.equal(err.message, `${join(dir, 'cfg.config.ts')}: grpc.server.port is 70000; it must be an integer from 0 to 65535.`);
      return true;
    });
  });

  test('a valid file, with the environment applied on top', async () => {
    const dir = await project(`${define}export default defineConfig({ grpc: { enabledApps: ['crypto'], server: { port: 6001 } } });\n`);
    const config = await loadConfig({ cwd: dir, env: { CFG_GRPC_PORT: '6002' } });
    assert.equal(config.root, dir);
    assert.equal(config.grpc.enabledApps[0], 'crypto', 'crypto first; cfg startapp adds apps after it');
    assert.equal(config.grpc.server.port, 6002);
  });

  test('no default export, a file that does not load, no file at all', async () => {
    const noDefault = await project('export const config = {};\n');
    await assert.rejects(loadConfig({ cwd: noDefault, env: {} }), {
      code: 'E_CONFIG_INVALID',
      message: `${join(noDefault, 'cfg.config.ts')} has no default export.`,
    });

    const broken = await project('export default { grpc: { \n');
    await assert.rejects(
      loadConfig({ cwd: broken, env: {} }),
      (err: CfgError) => err.code === 'E_CONFIG_LOAD' && err.message.startsWith(`${join(broken, 'cfg.config.ts')} failed to load: `),
    );

    const none = await project(null);
    await assert.rejects(loadConfig({ cwd: none, env: {} }), { code: 'E_CONFIG_NOT_FOUND' });
    const defaults = await loadConfig({ cwd: none, env: {}, required: false });
    assert.equal(defaults.root, none);
    assert.equal(defaults.grpc.proto.protoDir, 'proto');
  });
});
