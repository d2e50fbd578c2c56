import type { Command } from 'commander';
import { addressOrProjectCommand } from './grpc-target.ts';

/**
 * cfg list [address] [service]: the services of a running server (by reflection), or of the
 * project's descriptor set with no address; with a service, its methods.
 */
export function listCommand(): Command {
  return addressOrProjectCommand(
    'list',
    "List a server's services (by reflection), or a service's methods; without an address, the project's",
    'package.Service: list its methods',
    async (address, service, opts) => {
      const { openTarget } = await import('./grpc-target.ts');
      const target = await openTarget(address, opts);
      try {
        if (!service) {
          for (const name of (await target.source.services()).sort()) process.stdout.write(`${name}\n`);
          return;
        }
        const desc = (await target.source.registryFor(service))?.getService(service);
        if (!desc) {
          const { CfgError } = await import('../errors.ts');
          throw new CfgError(
            'E_NOT_FOUND',
            `${address ?? 'The project'} has no service ${service} (by ${target.source.origin}).`,
            `Its services: ${(await target.source.services()).sort().join(', ')}`,
          );
        }
        for (const m of desc.methods) process.stdout.write(`${desc.typeName}.${m.name}\n`);
      } finally {
        target.close();
      }
    },
  );
}
