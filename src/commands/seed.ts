import { Command } from 'commander';

export function seedCommand(): Command {
  return new Command('seed').description('(being built)').action(() => {
    throw new Error('cfg seed is not built yet');
  });
}
