// Every command a user can type, for the command-failures tests: the commander program walked
// (so a new command is covered at once; its required options are filled from SAMPLES, and a new
// option without a sample fails the test), each run against what is expected of it.
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli.ts';
import { makeProject, REPO, type Project, type RunResult } from '../fixtures/project.ts';
import { PG_URL } from './db.ts';

/** A value for each required option or argument, by its name. */
export const SAMPLES: Record<string, string> = {
  username: 'alice',
  name: 'probe',
  'older-than': '30d',
  id: '1',
  address: '127.0.0.1:1',
  method: 'x.Y/Z',
};

/** Every runnable command (the leaves: `apikey create`, not `apikey`) as argv with its required inputs. */
export function commands(command: Command = buildProgram(), path: string[] = []): string[][] {
  if (command.commands.length > 0) return command.commands.flatMap((sub) => commands(sub, [...path, sub.name()]));
  const argv = [...path];
  for (const option of command.options.filter((o) => o.mandatory)) {
    const key = option.long!.slice(2);
    assert.ok(SAMPLES[key], `cfg ${path.join(' ')} requires ${option.long}: add a sample value for it to SAMPLES`);
    argv.push(option.long!, SAMPLES[key]!);
  }
  for (const arg of command.registeredArguments.filter((a) => a.required)) {
    assert.ok(SAMPLES[arg.name()], `cfg ${path.join(' ')} requires <${arg.name()}>: add a sample value for it to SAMPLES`);
    argv.push(SAMPLES[arg.name()]!);
  }
  return [argv];
}

/**
 * What a command must do: fail with this code; succeed; touch no database (`no-db`: whatever its
 * verdict on the project, it exits 0 or 1 without a stack trace and never says E_DB_*); end with
 * this gRPC status (`cfg call`: exit code = status code, one line `error <STATUS> ...`); or not
 * run here, with the reason and the test that covers it.
 */
export type Expect = { code: string } | 'ok' | 'no-db' | { status: string; exit: number } | { skip: string };

/** cfg call reaches for the server it is given (SAMPLES.address: nothing listens there) before anything else: no project or database needed. */
export const CALL_UNREACHABLE: Expect = { status: 'UNAVAILABLE', exit: 14 };

/** A failure as users see it: exit 1, `error <code> <message>` and at most a hint line, nothing else. */
function assertOneLine(r: RunResult, code: string, what: string): void {
  const out = `${what}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, `no stack trace: ${out}`);
  assert.equal(r.code, 1, out);
  if (what.startsWith('check') && r.stderr === '') {
    // check is a report: its verdict on the database is one of its lines.
    assert.match(r.stdout, new RegExp(`^✗ \\w+: ${code} \\S`, 'm'), out);
    return;
  }
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.match(lines[0] ?? '', new RegExp(`^error ${code} \\S`), out);
  assert.ok(lines.length === 1 || (lines.length === 2 && lines[1]!.startsWith('hint  ')), `one error line and a hint at most: ${out}`);
  assert.equal(r.stdout, '', out);
}

/** Runs each command (a few at a time) and checks it against `expect`. */
export async function runAll(run: (argv: string[], slug: string) => Promise<RunResult>, expect: (name: string) => Expect): Promise<void> {
  const queue = commands().map((argv) => ({
    argv,
    name: argv.filter((a) => !a.startsWith('-') && !Object.values(SAMPLES).includes(a)).join(' '),
  }));
  const failures: string[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const wanted = expect(item.name);
      if (typeof wanted === 'object' && 'skip' in wanted) continue;
      try {
        const r = await run(item.argv, item.name.replace(/\W+/g, '_'));
        if (wanted === 'no-db') {
          const out = `cfg ${item.argv.join(' ')}\n${r.stdout}\n${r.stderr}`;
          assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, `no stack trace: ${out}`);
          assert.doesNotMatch(r.stdout + r.stderr, /E_DB_|E_INTERNAL/, `needs no database: ${out}`);
          assert.ok(r.code === 0 || r.code === 1, out);
        } else if (wanted === 'ok') {
          assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, 'no stack trace');
          assert.equal(r.code, 0, `cfg ${item.argv.join(' ')}\n${r.stdout}\n${r.stderr}`);
        } else if ('status' in wanted) {
          const out = `cfg ${item.argv.join(' ')}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
          assert.equal(r.code, wanted.exit, out);
          assert.match(r.stderr, new RegExp(`^error ${wanted.status} \\S[^\\n]*\\n$`), `one line: ${out}`);
          assert.equal(r.stdout, '', out);
        } else assertOneLine(r, wanted.code, `${item.name} (cfg ${item.argv.join(' ')})`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  assert.deepEqual(failures, []);
}

/**
 * A project whose database the test makes unusable: the greeter fixture (so check and rungrpc get
 * as far as the database) with a seed, and this repository's migrations. The PostgreSQL schemas
 * named in `schemas` are dropped after the file's tests.
 */
export function unusableDatabaseProject(): { project: () => Project; schemas: string[] } {
  let project: Project | undefined;
  const schemas: string[] = [];
  before(async () => {
    const seed = `export async function seed(db) {\n  await db.permission.upsert({ where: { app_codename: { app: 'greeter', codename: 'greet' } }, create: { app: 'greeter', codename: 'greet' }, update: {} });\n}\n`;
    project = await makeProject({ apps: ['greeter'], files: { 'apps/greeter/seed.ts': seed } });
    await cp(join(REPO, 'prisma'), project.path('prisma'), { recursive: true });
  });
  after(async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await admin.end();
    await project?.remove();
  });
  return { project: () => project!, schemas };
}

/** What touches no database, or changes it on purpose, whatever state the database is in. */
export function databaseFree(name: string): Expect | undefined {
  if (name === 'generate-proto') return 'ok'; // protos only
  if (name === 'call')
    return {
      skip: 'reaches for its server before any project or database (no --token-user here): command-failures-outside.test.ts, cfg-call.test.ts',
    };
  if (name === 'list') return 'no-db'; // the project's descriptor set
  if (name === 'describe')
    return {
      skip: "reads the project's descriptor set as cfg list does (the same openTarget): covered by list here, cfg-list-describe.test.ts",
    };
  if (name === 'proto lint' || name === 'proto breaking') return 'no-db'; // the fixture's protos have findings, and it is no git repository
  if (name === 'proto format')
    return { skip: "rewrites the project's protos (the other commands run on them meanwhile); needs no database: proto-lint.test.ts" };
  if (name === 'startapp') return { skip: 'adds an app to the project the other commands run on; needs no database: startapp.test.ts' };
  if (name === 'startproject')
    return { skip: 'makes a new project (a folder beside the files the other commands use); needs no database: startproject.test.ts' };
  if (name === 'setup')
    return {
      skip: 'with DATABASE_URL set, setup never connects (an install must not fail on a server that is down): db-setup-postgresql.test.ts',
    };
  return undefined;
}

/** On an unmigrated database: migrate migrates it and makemigrations needs no migrated one (db-migrate.test.ts runs both). */
export function onUnmigrated(name: string): Expect {
  return (
    databaseFree(name) ??
    (name === 'migrate' || name === 'makemigrations'
      ? { skip: 'succeeds on an unmigrated database: db-migrate.test.ts' }
      : { code: 'E_DB_NOT_MIGRATED' })
  );
}
