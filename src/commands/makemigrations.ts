import { Command } from 'commander';

export function makemigrationsCommand(): Command {
  return new Command('makemigrations').description('(being built)').action(() => {
    throw new Error('cfg makemigrations is not built yet');
  });
}
