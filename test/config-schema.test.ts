// The config schema (src/config/schema*.ts), walked setting by setting: each has a default that
// passes its own check, and each environment variable it names reaches that setting in the
// resolved config and is documented. A setting added without a default, or an override that
// does not arrive, fails here by name.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ZodDefault, ZodType } from 'zod';
import { resolveConfig } from '../src/config/resolve.ts';
import { SETTINGS } from '../src/config/walk.ts';
import { z } from '../src/config/zod.ts';
import { REPO } from './fixtures/project.ts';

const resolve = (env: NodeJS.ProcessEnv = {}) => resolveConfig({}, { root: '/srv/app', env });
const at = (config: object, path: readonly string[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], config);

test('the walk finds every setting: sections are not mistaken for settings, nor settings for sections', () => {
  assert.ok(SETTINGS.length >= 65, `only ${SETTINGS.length} settings found`);
  for (const name of [
    'grpc.enabled',
    'grpc.server.port',
    'grpc.server.tls',
    'grpc.auth.publicMethods',
    'database.poolSize',
    'logging.levels',
  ]) {
    assert.ok(
      SETTINGS.some((s) => s.name === name),
      name,
    );
  }
  assert.ok(!SETTINGS.some((s) => ['grpc', 'grpc.server', 'grpc.auth', 'logging'].includes(s.name)));
});

test('every setting in the schema has a default that passes its own check, and resolving {} gives it', () => {
  for (const setting of SETTINGS) assert.ok(setting.schema instanceof z.ZodDefault, `${setting.name} has no .default(...) in the schema`);
  const config = resolve();
  for (const setting of SETTINGS) {
    const value = setting.schema.parse(undefined);
    const check = (setting.schema as ZodDefault).unwrap() as ZodType;
    assert.ok(check.safeParse(value).success, `${setting.name}'s default ${JSON.stringify(value)} fails its own check`);
    const resolved = at(config, setting.path);
    assert.notEqual(resolved, undefined, `${setting.name} is missing from the resolved config`);
    // database.poolSize defaults to null, which resolving turns into grpc.server.maxWorkers.
    if (setting.name !== 'database.poolSize') assert.deepEqual(resolved, value, setting.name);
  }
});

/** Texts tried for each variable: the first that is accepted and changes the setting is the one checked. */
const CANDIDATES = [
  'true',
  'false',
  '7',
  '2',
  'auto',
  'warn',
  'json',
  'file:./var/env.sqlite3',
  'env-value',
  'redis',
  'redis://127.0.0.1:6390',
  'postgresql://127.0.0.1:6432/db',
  '5000',
  '*',
];

test('every environment variable in the schema reaches its setting in the resolved config', () => {
  const overridden = SETTINGS.filter((s) => s.meta.env !== undefined);
  assert.ok(overridden.length >= 14, `only ${overridden.length} variables found`);
  const defaults = resolve();
  for (const setting of overridden) {
    const name = setting.meta.env!;
    const text = CANDIDATES.find((t) => {
      try {
        return String(at(resolve({ [name]: t }), setting.path)) !== String(at(defaults, setting.path));
      } catch {
        return false; // refused: not a value for this setting
      }
    });
    assert.ok(text, `${name} changes nothing in ${setting.name}, whatever it is set to (${CANDIDATES.join(', ')})`);
    assert.equal(String(at(resolve({ [name]: text }), setting.path)), text, `${name}=${text} -> ${setting.name}`);
    // Empty counts as unset.
    assert.deepEqual(at(resolve({ [name]: '' }), setting.path), at(defaults, setting.path), `${name}="" -> ${setting.name}`);
  }
});

test('every environment variable in the schema is named once, and documented', () => {
  const names = SETTINGS.flatMap((s) => (s.meta.env ? [s.meta.env] : []));
  assert.deepEqual(
    names.filter((n, i) => names.indexOf(n) !== i),
    [],
    'each variable overrides one setting',
  );
  const docs = readFileSync(join(REPO, 'docs', 'configuration.md'), 'utf8');
  const table = docs.slice(docs.indexOf('### Environment variables'));
  for (const name of names) {
    assert.match(name, /^[A-Z][A-Z0-9_]*$/);
    assert.ok(table.includes(`\`${name}\``), `${name} is not in docs/configuration.md "Environment variables"`);
  }
});
