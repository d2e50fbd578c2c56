// Every command a user can type (the commander program walked: a new command is covered at
// once), run as the real `cfg` outside any project: exit 1, one `error E_CONFIG_NOT_FOUND` line and
// its hint, no stack trace, and not a file created.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { Project, tempDir } from './fixtures/project.ts';
import { commands, runAll } from './support/every-command.ts';

test('the walk finds every command, nested ones included', () => {
  const names = commands().map((argv) => (argv[0] === 'apikey' ? `apikey ${argv[1]}` : argv[0]));
  for (const name of ['generate-proto', 'rungrpc', 'check', 'migrate', 'makemigrations', 'seed', 'createuser', 'token', 'apikey create', 'apikey list', 'apikey revoke', 'prunelogs', 'setup']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
});

test('outside a project every command says E_CONFIG_NOT_FOUND and creates nothing', async () => {
  const dir = await tempDir('cfg-outside-');
  const outside = new Project(dir);
  await runAll((argv) => outside.run(argv), () => ({ code: 'E_CONFIG_NOT_FOUND' }));
  assert.deepEqual(readdirSync(dir), [], 'no file or folder was created');
});
