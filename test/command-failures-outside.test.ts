// Every command a user can type (the commander program walked: a new command is covered at
// once), run as the real `cfg` outside any project: exit 1, one `error E_CONFIG_NOT_FOUND` line and
// its hint, no stack trace, and not a file created. `cfg call` needs no project (it asks the
// server by reflection, like grpcurl): it gets as far as the server, which is not there.
// `cfg startproject` is the one command that makes a project there: startproject.test.ts.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { Project, tempDir } from './fixtures/project.ts';
import { CALL_UNREACHABLE, commands, runAll } from './support/every-command.ts';

test('the walk finds every command, nested ones included', () => {
  const names = commands().map((argv) => (argv[0] === 'apikey' ? `apikey ${argv[1]}` : argv[0]));
  for (const name of [
    'generate-proto',
    'rungrpc',
    'check',
    'migrate',
    'makemigrations',
    'seed',
    'createuser',
    'token',
    'apikey create',
    'apikey list',
    'apikey revoke',
    'prunelogs',
    'setup',
    'call',
    'list',
    'describe',
    'startproject',
  ]) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
});

test('outside a project every command says E_CONFIG_NOT_FOUND (cfg call: UNAVAILABLE) and creates nothing', async () => {
  const dir = await tempDir('cfg-outside-');
  const outside = new Project(dir);
  await runAll(
    (argv) => outside.run(argv),
    (name) =>
      name === 'call'
        ? CALL_UNREACHABLE
        : name === 'startproject'
          ? { skip: 'makes a project outside one: startproject.test.ts' }
          : { code: 'E_CONFIG_NOT_FOUND' },
  );
  assert.deepEqual(readdirSync(dir), [], 'no file or folder was created');
});
