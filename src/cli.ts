import { Command, CommanderError } from 'commander';
import kleur from 'kleur';
import { isCfgError } from './errors.ts';
import { flushLogs } from './log/logger.ts';
import { apikeyCommand } from './commands/apikey.ts';
import { checkCommand } from './commands/check.ts';
import { createuserCommand } from './commands/createuser.ts';
import { generateProtoCommand } from './commands/generate-proto.ts';
import { makemigrationsCommand } from './commands/makemigrations.ts';
import { migrateCommand } from './commands/migrate.ts';
import { protoCommand } from './commands/proto.ts';
import { prunelogsCommand } from './commands/prunelogs.ts';
import { rungrpcCommand } from './commands/rungrpc.ts';
import { seedCommand } from './commands/seed.ts';
import { setupCommand } from './commands/setup.ts';
import { startappCommand } from './commands/startapp.ts';
import { tokenCommand } from './commands/token.ts';

/**
 * Whether to colour what goes to `stream`: never with NO_COLOR set (https://no-color.org) or
 * TERM=dumb; always with FORCE_COLOR set (not "0"); otherwise only on a terminal.
 */
export function colourFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR || env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

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
    startappCommand,
    rungrpcCommand,
    checkCommand,
    migrateCommand,
    makemigrationsCommand,
    seedCommand,
    createuserCommand,
    tokenCommand,
    apikeyCommand,
    prunelogsCommand,
    setupCommand,
  ]) {
    const sub = command();
    program.addCommand(sub.configureOutput(output).showHelpAfterError(`(run cfg ${sub.name()} --help for its options)`).exitOverride());
  }
  return program;
}

/** Runs the CLI; every failure ends as one message on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  kleur.enabled = colourFor(process.stdout);
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  } finally {
    flushLogs();
  }
}

/** Prints a failure on stderr (coloured only if stderr is a terminal); returns the exit code. */
function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  kleur.enabled = colourFor(process.stderr);
  if (isCfgError(err)) {
    process.stderr.write(`${kleur.red('error')} ${kleur.dim(err.code)} ${err.message}\n`);
    if (err.hint) process.stderr.write(`${kleur.yellow('hint')}  ${err.hint}\n`);
    return 1;
  }
  process.stderr.write(`${kleur.red('error')} ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}
