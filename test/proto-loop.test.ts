// Lint in the development loop: `cfg check` reports lint findings as warnings (the server still
// serves), and `cfg generate-proto --watch` and `cfg rungrpc --reload` print the findings of the
// .proto file just saved, at file:line:column with the rule, and go on watching.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MINIMAL_CONFIG, bareProject, makeProject, type Project } from './fixtures/project.ts';
import { SHOP } from './fixtures/shop-proto.ts';

const projects: Project[] = [];
after(async () => {
  for (const p of projects) await p.remove();
});

test('cfg check: each lint finding is a warning at file:line:column with its rule, past 20 summed up; exit 0', async () => {
  const p = await makeProject({ apps: ['greeter'] });
  projects.push(p);
  const { code, stdout } = await p.run(['check']);
  assert.equal(code, 0, stdout);
  // The fixture protos predate buf's rules: no Service suffix, unversioned package.
  assert.match(
    stdout,
    /^! lint: proto\/greeter\.proto:7:9: Service name "Greeter" should be suffixed with "Service"\. \(SERVICE_SUFFIX\)$/m,
  );
  assert.match(stdout, /^! lint: proto\/farewell\.proto:\d+:\d+: .* \(PACKAGE_VERSION_SUFFIX\)$/m);
  const lines = stdout.split('\n').filter((l) => l.startsWith('! lint: '));
  assert.equal(lines.length, 21, stdout);
  assert.match(lines.at(-1)!, /^! lint: \d+ more finding\(s\): cfg proto lint lists them all$/);
  assert.match(stdout, /no problems found: 1 service\(s\); 0 problem\(s\), 21 warning\(s\)/);
});

test("generate-proto --watch: a saved file's lint findings follow its run line; a fixed file prints none", async () => {
  const p = await bareProject({ 'cfg.config.ts': MINIMAL_CONFIG, 'proto/shop.proto': SHOP }, 'cfg-loop-');
  projects.push(p);
  const watch = p.spawn(['generate-proto', '--watch']);
  try {
    await watch.waitFor('stdout', /^\d\d:\d\d:\d\d generated 1 proto file\(s\)/m);
    await p.write('proto/shop.proto', SHOP.replace('string name = 2;', 'string ItemName = 2;'));
    await watch.waitFor('stdout', /^\d\d:\d\d:\d\d shop\.proto changed: generated 1 proto file\(s\)/m, 1);
    await watch.waitFor(
      'stdout',
      /^\d\d:\d\d:\d\d lint proto\/shop\.proto:16:10: Field name "ItemName" should be lower_snake_case, such as "item_name"\. \(FIELD_LOWER_SNAKE_CASE\)$/m,
    );

    await p.write('proto/shop.proto', SHOP);
    await watch.waitFor('stdout', /^\d\d:\d\d:\d\d shop\.proto changed: generated 1 proto file\(s\)/m, 2);
    // The run line comes before its lint lines; give the fixed run's lint its moment, then count.
    await p.write('proto/other.proto', 'syntax = "proto3";\n\npackage other.v1;\n');
    await watch.waitFor('stdout', /^\d\d:\d\d:\d\d other\.proto changed: generated 2 proto file\(s\)/m);
    assert.equal([...watch.stdout.matchAll(/ lint /g)].length, 1, watch.stdout);
    assert.equal(watch.stderr, '');
  } finally {
    await watch.stop();
  }
});

test("rungrpc --reload: a saved .proto's lint findings are logged as warnings after its stubs are regenerated", async () => {
  const p = await makeProject({ apps: ['greeter'] });
  projects.push(p);
  const proc = p.spawn(['rungrpc', '--reload']);
  try {
    await proc.port(1);
    const proto = await p.read('proto/greeter.proto');
    await p.write('proto/greeter.proto', proto.replace('int32 pid = 2;', 'int32 pid = 2;\n  string BadName = 3;'));
    await proc.waitFor('stderr', /regenerated stubs from 2 proto file\(s\)/);
    await proc.waitFor('stderr', /BadName.*FIELD_LOWER_SNAKE_CASE/);
    const lint = proc.jsonLogs().filter((l) => l.logger === 'grpc.reload' && String(l.msg).startsWith('lint '));
    const bad = lint.find((l) => String(l.msg).includes('BadName'));
    assert.ok(bad, JSON.stringify(lint));
    assert.equal(bad.level, 'warn');
    assert.match(
      String(bad.msg),
      /^lint proto\/greeter\.proto:\d+:\d+: Field name "BadName" should be lower_snake_case, such as "bad_name"\. \(FIELD_LOWER_SNAKE_CASE\)$/,
    );
    assert.ok(
      lint.every((l) => String(l.msg).startsWith('lint proto/greeter.proto:')),
      'only the saved file is linted',
    );
    await proc.port(2);
  } finally {
    await proc.stop();
  }
});
