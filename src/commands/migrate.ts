import { Command } from 'commander';

export function migrateCommand(): Command {
  return new Command('migrate').description('(being built)').action(() => {
    throw new Error('cfg migrate is not built yet');
  });
}
