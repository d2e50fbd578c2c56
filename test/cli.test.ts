// The `cfg` binary itself: --help lists every command and option, exit codes, and colour only
// on a terminal (never with NO_COLOR, never into a pipe).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../src/cli.ts';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { configText, Project, REPO, tempDir } from './fixtures/project.ts';

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the terminal's colour escapes is the point
const ANSI = /\x1b\[[0-9;]*m/;
const CLI = join(REPO, 'bin', 'cfg.js');
const GREETER =
  'syntax = "proto3";\npackage greet;\nservice Greeter {\n  rpc Hello(Msg) returns (Msg);\n}\nmessage Msg {\n  string text = 1;\n}\n';

let shared: Project | undefined;
after(async () => {
  await shared?.remove();
});

/** One temp project for the whole file: package.json, node_modules, cfg.config.ts, proto/greeter.proto. */
async function project(): Promise<Project> {
  if (!shared) {
    shared = new Project(await tempDir('cfg-cli-'));
    await writeFile(shared.path('package.json'), '{ "type": "module", "private": true }\n');
    await writeFile(shared.path('cfg.config.ts'), configText({}));
    await symlink(join(REPO, 'node_modules'), shared.path('node_modules'), 'dir');
    await shared.write('proto/greeter.proto', GREETER);
  }
  return shared;
}

/** `cfg <args>` with pipes for stdout and stderr (not a terminal), NO_COLOR and FORCE_COLOR as given. */
async function cfg(args: string[], colour: { NO_COLOR?: string; FORCE_COLOR?: string } = {}) {
  return (await project()).run(args, { NO_COLOR: colour.NO_COLOR ?? '', FORCE_COLOR: colour.FORCE_COLOR ?? '' });
}

/**
 * Parses `argv` with the program the CLI builds, in this process (one start-up for many checks),
 * capturing what it writes; commander's exit (help shown, a usage error) comes back as `error`.
 */
async function inProcess(argv: string[]): Promise<{ stdout: string; stderr: string; error?: CommanderError }> {
  const out = { stdout: '', stderr: '' };
  const program = buildProgram();
  const capture = (c: Command) => {
    c.configureOutput({ writeOut: (t) => void (out.stdout += t), writeErr: (t) => void (out.stderr += t) });
    c.commands.forEach(capture);
  };
  capture(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return out;
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { ...out, error };
  }
}

describe('help', () => {
  test('cfg --help lists every command and option; exit 0', async () => {
    const { code, stdout } = await cfg(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: cfg \[options\] \[command\]/);
    for (const option of ['-V, --version', '-h, --help']) assert.ok(stdout.includes(option), option);
    for (const command of [
      'generate-proto [options]',
      'rungrpc [options]',
      'check',
      'migrate',
      'makemigrations',
      'seed',
      'createuser',
      'token',
      'setup',
    ]) {
      assert.match(stdout, new RegExp(`^  ${command.replace(/[[\]]/g, '\\$&')} `, 'm'), command);
    }
  });

  test('cfg generate-proto --help lists --proto-dir, --output-dir and --watch', async () => {
    const { code, stdout } = await cfg(['generate-proto', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: cfg generate-proto \[options\]/);
    const flat = stdout.replace(/\s+/g, ' '); // help wraps at the terminal's width
    assert.ok(flat.includes(' --proto-dir <dir> folder holding the .proto files (default: grpc.proto.protoDir, "proto") '), stdout);
    assert.ok(
      flat.includes(' --output-dir <dir> folder receiving the stubs and descriptors.binpb (default: grpc.proto.outputDir, "generated") '),
      stdout,
    );
    assert.ok(flat.includes(' --watch generate, then regenerate on every .proto change until Ctrl-C; '), stdout);
    assert.match(stdout, /^ {2}-h, --help +display help for command/m);
  });

  test('every command answers --help with its usage and exit 0', async () => {
    const list = (await cfg(['--help'])).stdout;
    const commands = [...list.matchAll(/^ {2}([a-z][a-z-]+)(?= )/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    assert.ok(commands.length >= 9, list);
    // Each command's help as the CLI builds it (one process for all), and one run of the binary.
    for (const command of commands) {
      const { stdout, error } = await inProcess([command, '--help']);
      assert.equal(error?.exitCode, 0, command);
      assert.match(stdout, new RegExp(`^Usage: cfg ${command}\\b`), command);
    }
    const { code, stdout } = await cfg(['rungrpc', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: cfg rungrpc \[options\]/);
  });

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    const { code, stdout } = await cfg(['--version']);
    assert.equal(code, 0);
    assert.equal(stdout, `${version}\n`);
  });
});

describe('exit codes', () => {
  test('0 on success, 1 on failure with one message on stderr', async () => {
    const ok = await cfg(['generate-proto']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stderr, '');
    const failed = await cfg(['generate-proto', '--proto-dir', 'nowhere']);
    assert.equal(failed.code, 1);
    assert.equal(failed.stdout, '');
    assert.match(failed.stderr, /^error E_PROTO_DIR Proto directory nowhere\/ does not exist\.\nhint {2}.+\n$/);
  });

  test('usage errors: an unknown command or option exits 1 and points at --help', async () => {
    const command = await cfg(['serve']);
    assert.equal(command.code, 1);
    assert.match(command.stderr, /^error: unknown command 'serve'\n\(run cfg --help for every command\)/);
    const option = await cfg(['generate-proto', '--out', 'x']);
    assert.equal(option.code, 1);
    assert.match(option.stderr, /^error: unknown option '--out'\n\(run cfg generate-proto --help for its options\)/);
  });

  test('a missing required option or argument points at the --help of that very command, nested ones too', async () => {
    const walk = (c: Command, path: string[]): string[][] =>
      c.commands.length ? c.commands.flatMap((s) => walk(s, [...path, s.name()])) : [path];
    const program = buildProgram();
    const needy = walk(program, []).filter((path) => {
      const c = path.reduce((cmd, name) => cmd.commands.find((x) => x.name() === name)!, program);
      return c.options.some((o) => o.mandatory) || c.registeredArguments.some((a) => a.required);
    });
    assert.ok(
      needy.some((p) => p.join(' ') === 'apikey create'),
      needy.join(', '),
    );
    for (const path of needy) {
      const { stderr, error } = await inProcess(path);
      assert.equal(error?.exitCode, 1, path.join(' '));
      assert.match(stderr, /^error: (required option|missing required argument) .+\n/, path.join(' '));
      assert.ok(stderr.includes(`(run cfg ${path.join(' ')} --help for its options)`), `${path.join(' ')}: ${stderr}`);
    }
    // And as the binary prints it, for a nested command.
    const { code, stderr } = await cfg(['apikey', 'create', '--username', 'alice']);
    assert.equal(code, 1);
    assert.equal(stderr, "error: required option '--name <name>' not specified\n(run cfg apikey create --help for its options)\n");
  });

  test('an unexpected failure: one line E_INTERNAL and where the details went; CFG_DEBUG=1 prints them', async () => {
    const p = new Project(await tempDir('cfg-internal-'));
    await writeFile(p.path('package.json'), '{ "type": "module", "private": true }\n');
    // A config whose getter throws: an error no part of cfg anticipates.
    await writeFile(p.path('cfg.config.ts'), "export default { get grpc() { throw new TypeError('boom from a getter'); } };\n");
    const plain = await p.run(['check']);
    assert.equal(plain.code, 1);
    const m =
      /^error E_INTERNAL boom from a getter\nhint {2}An unexpected failure: the details are in (\S+\.log) \(CFG_DEBUG=1 prints them here\)\. Please report it\.\n$/.exec(
        plain.stderr,
      );
    assert.ok(m, plain.stderr);
    assert.match(await readFile(m[1]!, 'utf8'), /^TypeError: boom from a getter\n\s+at /m, 'the stack is in the file');
    await rm(m[1]!);
    const debug = await p.run(['check'], { CFG_DEBUG: '1' });
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /^error E_INTERNAL boom from a getter\nTypeError: boom from a getter\n\s+at /);
    await p.remove();
  });

  test('an invalid cfg.config.ts: exit 1, the file and the field named', async () => {
    const p = await project();
    const config = p.path('cfg.config.ts');
    await writeFile(config, configText({ grpc: { server: { port: 70000 } } }));
    try {
      const { code, stderr } = await cfg(['generate-proto']);
      assert.equal(code, 1);
      assert.equal(
        stderr,
        `error E_CONFIG_INVALID ${config}: grpc.server.port is 70000; it must be an integer from 0 to 65535.\nhint  Fix grpc.server.port in ${config}.\n`,
      );
    } finally {
      await writeFile(config, configText({}));
    }
  });
});

describe('colour', () => {
  test('piped output has no ANSI escapes; FORCE_COLOR turns colour on, NO_COLOR always wins', async () => {
    const piped = [await cfg(['generate-proto']), await cfg(['generate-proto', '--proto-dir', 'nowhere'])];
    for (const r of piped) assert.doesNotMatch(r.stdout + r.stderr, ANSI);

    const forcedOk = await cfg(['generate-proto'], { FORCE_COLOR: '1' });
    assert.match(forcedOk.stdout, ANSI, 'the success line is coloured when colour is forced');
    const forcedFail = await cfg(['generate-proto', '--proto-dir', 'nowhere'], { FORCE_COLOR: '1' });
    assert.match(forcedFail.stderr, ANSI, 'so is the error');

    const both = [
      await cfg(['generate-proto'], { FORCE_COLOR: '1', NO_COLOR: '1' }),
      await cfg(['generate-proto', '--proto-dir', 'nowhere'], { FORCE_COLOR: '1', NO_COLOR: '1' }),
    ];
    for (const r of both) assert.doesNotMatch(r.stdout + r.stderr, ANSI);
    assert.match(both[0]!.stdout, /^generated 1 proto file\(s\)/);
  });

  // `script` runs cfg on a pseudo-terminal, as a user's shell does.
  const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
  test('on a terminal: coloured, unless NO_COLOR is set', { skip: hasScript ? false : 'needs script(1) from util-linux' }, async () => {
    const p = await project();
    const onTty = (env: NodeJS.ProcessEnv) =>
      spawnSync('script', ['-qec', `"${process.execPath}" "${CLI}" generate-proto`, '/dev/null'], {
        cwd: p.root,
        env: { ...process.env, FORCE_COLOR: '', TERM: 'xterm', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const coloured = onTty({ NO_COLOR: '' });
    assert.equal(coloured.status, 0, coloured.stdout);
    assert.match(coloured.stdout, ANSI);
    const plain = onTty({ NO_COLOR: '1' });
    assert.equal(plain.status, 0, plain.stdout);
    assert.match(plain.stdout, /generated 1 proto file\(s\)/);
    assert.doesNotMatch(plain.stdout, ANSI);
  });
});
