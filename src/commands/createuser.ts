import { Command } from 'commander';

export function createuserCommand(): Command {
  return new Command('createuser').description('(being built)').action(() => {
    throw new Error('cfg createuser is not built yet');
  });
}
