import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import kleur from 'kleur';
import { ERROR_CODES, isCfgError } from './errors.ts';
import { colourFor } from './log/colour.ts';
import { flushLogs } from './log/logger.ts';
import { apikeyCommand } from './commands/apikey.ts';
import { callCommand } from './commands/call.ts';
import { checkCommand } from './commands/check.ts';
import { createuserCommand } from './commands/createuser.ts';
import { describeCommand } from './commands/describe.ts';
import { generateProtoCommand } from './commands/generate-proto.ts';
import { listCommand } from './commands/list.ts';
import { makemigrationsCommand } from './commands/makemigrations.ts';
import { migrateCommand } from './commands/migrate.ts';
import { protoCommand } from './commands/proto.ts';
import { prunelogsCommand } from './commands/prunelogs.ts';
import { rungrpcCommand } from './commands/rungrpc.ts';
import { seedCommand } from './commands/seed.ts';
import { setupCommand } from './commands/setup.ts';
import { startappCommand } from './commands/startapp.ts';
import { startprojectCommand } from './commands/startproject.ts';
import { tokenCommand } from './commands/token.ts';

export { colourFor };

/** Commander's own errors (unknown option, missing argument) go to stderr, in red on a terminal. */
const output = {
  outputError(text: string, write: (s: string) => void): void {
    kleur.enabled = colourFor(process.stderr);
    write(kleur.red(text));
  },
};

export function buildProgram(): Command {
  const program = new Command('cfg')
    .description("Django-CFG's gRPC integration for Node.js: generate stubs, discover services, serve them.")
    .version('0.1.0')
    .showHelpAfterError('(run cfg --help for every command)')
    .configureOutput(output)
    .exitOverride();
  for (const command of [
    generateProtoCommand,
    protoCommand,
    startprojectCommand,
    startappCommand,
    rungrpcCommand,
    checkCommand,
    migrateCommand,
    makemigrationsCommand,
    seedCommand,
    createuserCommand,
    tokenCommand,
    apikeyCommand,
    callCommand,
    listCommand,
    describeCommand,
    prunelogsCommand,
    setupCommand,
  ]) {
    program.addCommand(configure(command(), 'cfg'));
  }
  return program;
}

/** Every command, nested ones too (cfg apikey create), prints errors alike and points at its own --help. */
function configure(command: Command, parent: string): Command {
  const name = `${parent} ${command.name()}`;
  command.configureOutput(output).showHelpAfterError(`(run ${name} --help for its options)`).exitOverride();
  for (const sub of command.commands) configure(sub, name);
  return command;
}

/** Runs the CLI; every failure ends as one message on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  kleur.enabled = colourFor(process.stdout);
  // Errors thrown outside the command's promise (a timer, a stream) end the same way.
  const fatal = (err: unknown) => {
    // Whoever read our output has gone (a closed pipe): there is no one left to tell.
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') process.exit(1);
    process.exitCode = reportError(err);
    flushLogs();
    process.exit();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  } finally {
    flushLogs();
  }
}

/**
 * Prints a failure on stderr (coloured only if stderr is a terminal); returns the exit code.
 * A CfgError is its code, message and hint. Anything else is a bug or an unforeseen failure: one
 * line E_INTERNAL with its message, the stack written to a file (or, with CFG_DEBUG=1, here).
 */
function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  kleur.enabled = colourFor(process.stderr);
  const debug = Boolean(process.env.CFG_DEBUG) && process.env.CFG_DEBUG !== '0';
  const write = (s: string) => process.stderr.write(`${s}\n`);
  if (isCfgError(err)) {
    write(`${kleur.red('error')} ${kleur.dim(err.code)} ${err.message}`);
    if (err.hint) write(`${kleur.yellow('hint')}  ${err.hint}`);
    if (debug && err.cause !== undefined) write(details(err.cause));
    return err.exitCode;
  }
  const first =
    err instanceof Error
      ? err.message
          .split('\n')
          .find((l) => l.trim() !== '')
          ?.trim() || err.name
      : String(err);
  write(`${kleur.red('error')} ${kleur.dim('E_INTERNAL')} ${first}`);
  if (debug) write(details(err));
  else write(`${kleur.yellow('hint')}  ${saveDetails(err)}`);
  return ERROR_CODES.E_INTERNAL.exitCode;
}

/** The stack, and each cause's, as text. */
function details(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(`${depth ? 'caused by: ' : ''}${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (!(e instanceof Error)) break;
  }
  return parts.join('\n');
}

/** Writes the details to a file in the temp folder; says where (or how to see them, if it cannot). */
function saveDetails(err: unknown): string {
  const file = join(tmpdir(), `cfg-error-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}.log`);
  try {
    writeFileSync(file, `cfg ${process.argv.slice(2).join(' ')}\n${details(err)}\n`);
    return `An unexpected failure: the details are in ${file} (CFG_DEBUG=1 prints them here). Please report it.`;
  } catch {
    return 'An unexpected failure: run again with CFG_DEBUG=1 to see the details. Please report it.';
  }
}
