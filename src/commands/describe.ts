import type { Command } from 'commander';
import { addressOrProjectCommand } from './grpc-target.ts';

/**
 * cfg describe [address] [symbol]: a service, method, message or enum as the .proto text that
 * defines it; with no symbol, every service. Without an address, the project's descriptor set.
 */
export function describeCommand(): Command {
  return addressOrProjectCommand(
    'describe',
    "Show a service, method, message or enum as .proto text, from a server's reflection or the project's descriptors",
    'package.Service, package.Service.Method, package.Message or package.Enum (default: every service)',
    async (address, symbol, opts) => {
      const [{ openTarget }, { describeSymbol }, { CfgError }] = await Promise.all([
        import('./grpc-target.ts'),
        import('../client/describe-text.ts'),
        import('../errors.ts'),
      ]);
      const target = await openTarget(address, opts);
      try {
        const symbols = symbol ? [symbol.replace(/^\./, '')] : (await target.source.services()).sort();
        const texts: string[] = [];
        for (const name of symbols) {
          // A method is found through its service's file.
          const registry =
            (await target.source.registryFor(name)) ??
            (name.includes('.') ? await target.source.registryFor(name.slice(0, name.lastIndexOf('.'))) : undefined);
          const text = registry && describeSymbol(registry, name);
          if (!text)
            throw new CfgError(
              'E_NOT_FOUND',
              `${address ?? 'The project'} has no service, method, message or enum ${name} (by ${target.source.origin}).`,
              `cfg list${address ? ` ${address}` : ''} shows the services.`,
            );
          texts.push(text);
        }
        process.stdout.write(texts.join('\n'));
      } finally {
        target.close();
      }
    },
  );
}
