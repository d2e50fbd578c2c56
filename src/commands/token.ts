import { Command } from 'commander';

export function tokenCommand(): Command {
  return new Command('token').description('(being built)').action(() => {
    throw new Error('cfg token is not built yet');
  });
}
