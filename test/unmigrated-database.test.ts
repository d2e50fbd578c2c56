// A database whose schema is behind the code: `cfg rungrpc` refuses it with the count of unapplied
// migrations; with --allow-unmigrated it serves but health never says SERVING until `cfg migrate`
// has run, and the server monitor says in one line why it cannot record the server.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { importFrom, makeProject, REPO, type CfgProcess, type Project } from './fixtures/project.ts';
import { TestClient, type AnyDefinition } from './fixtures/client.ts';
import { healthClient, NOT_SERVING, SERVING } from './support/health-client.ts';

/** Every migration of this repository is unapplied on the new database (counted, not written down: a new migration must not break this test). */
const MIGRATIONS = readdirSync(join(REPO, 'prisma', 'migrations', 'sqlite'), { withFileTypes: true }).filter((e) => e.isDirectory()).length;

let project: Project | undefined;
let proc: CfgProcess | undefined;
after(async () => {
  await proc?.stop();
  await project?.remove();
});

test('rungrpc refuses unapplied migrations; --allow-unmigrated serves NOT_SERVING until cfg migrate, then SERVING', async () => {
  project = await makeProject({ apps: ['greeter'], config: { grpc: { server: { enableHealthCheck: true } } } });
  await cp(join(REPO, 'prisma'), project.path('prisma'), { recursive: true });
  const env = { DATABASE_URL: 'file:./var/behind.sqlite3' };

  const refused = await project.run(['rungrpc'], env);
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    `error E_DB_NOT_MIGRATED SQLite var/behind.sqlite3 has ${MIGRATIONS} unapplied migrations (run cfg migrate).\n` +
      'hint  Run cfg migrate, or start anyway with cfg rungrpc --allow-unmigrated (health stays NOT_SERVING until they are applied).\n',
  );

  proc = project.spawn(['rungrpc', '--allow-unmigrated'], env);
  const port = await proc.port();
  const health = healthClient(port);
  const greeter = new TestClient((await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition, port);
  try {
    assert.equal(await health.check(''), NOT_SERVING);
    assert.equal(await health.check('fixture.Greeter'), NOT_SERVING);
    assert.equal((await greeter.unary('sayHello', { name: 'early' })).message, 'hello early', 'calls are served meanwhile');
    await proc.waitFor('stderr', /server monitor: cannot record/);
    const warnings = proc
      .jsonLogs()
      .filter((l) => l.level === 'warn')
      .map((l) => l.msg);
    assert.ok(
      warnings.includes(
        `SQLite var/behind.sqlite3 has ${MIGRATIONS} unapplied migrations (run cfg migrate). Serving anyway (--allow-unmigrated); health is NOT_SERVING until they are applied.`,
      ),
      warnings.join('\n'),
    );
    assert.ok(
      warnings.includes('server monitor: cannot record this server in grpc_server: table grpc_server does not exist (run cfg migrate)'),
      warnings.join('\n'),
    );

    const migrated = await project.run(['migrate'], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    let now = await health.check('');
    for (let i = 0; i < 300 && now !== SERVING; i++) {
      await sleep(100);
      now = await health.check('');
    }
    assert.equal(now, SERVING, 'SERVING once every migration is applied');
    assert.equal(await health.check('fixture.Greeter'), SERVING);
  } finally {
    health.close();
    greeter.close();
  }
  proc.kill('SIGTERM');
  assert.equal((await proc.exited).code, 0);
});
