import { Command, CommanderError } from 'commander';
import kleur from 'kleur';
import { isCfgError } from './errors.ts';
import { flushLogs } from './log/logger.ts';
import { checkCommand } from './commands/check.ts';
import { createuserCommand } from './commands/createuser.ts';
import { generateProtoCommand } from './commands/generate-proto.ts';
import { makemigrationsCommand } from './commands/makemigrations.ts';
import { migrateCommand } from './commands/migrate.ts';
import { rungrpcCommand } from './commands/rungrpc.ts';
import { seedCommand } from './commands/seed.ts';
import { setupCommand } from './commands/setup.ts';
import { tokenCommand } from './commands/token.ts';

/** kleur colours only a terminal, and never when NO_COLOR is set. */
function configureColour(): void {
  kleur.enabled = Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
}

export function buildProgram(): Command {
  const program = new Command('cfg')
    .description("Django-CFG's gRPC integration for Node.js: generate stubs, discover services, serve them.")
    .version('0.1.0')
    .showHelpAfterError('(run cfg --help for every command)')
    .exitOverride();
  for (const command of [
    generateProtoCommand,
    rungrpcCommand,
    checkCommand,
    migrateCommand,
    makemigrationsCommand,
    seedCommand,
    createuserCommand,
    tokenCommand,
    setupCommand,
  ]) {
    program.addCommand(command().exitOverride());
  }
  return program;
}

/** Runs the CLI; every failure ends as one message on stderr and a non-zero exit code. */
export async function main(argv: string[]): Promise<void> {
  configureColour();
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  } finally {
    flushLogs();
  }
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  if (isCfgError(err)) {
    process.stderr.write(`${kleur.red('error')} ${kleur.dim(err.code)} ${err.message}\n`);
    if (err.hint) process.stderr.write(`${kleur.yellow('hint')}  ${err.hint}\n`);
    return 1;
  }
  process.stderr.write(`${kleur.red('error')} ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}
