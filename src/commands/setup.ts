import { Command } from 'commander';

export function setupCommand(): Command {
  return new Command('setup').description('(being built)').action(() => {
    throw new Error('cfg setup is not built yet');
  });
}
