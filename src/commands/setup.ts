import { resolve } from 'node:path';
import { Command } from 'commander';
import kleur from 'kleur';

/**
 * cfg setup (run by `npm install`): the Prisma clients and gRPC stubs; then, on the embedded
 * SQLite default only (no DATABASE_URL), migrations and seeds, so `npx cfg rungrpc` serves at once.
 * A PostgreSQL deployment runs `cfg migrate` and `cfg seed` itself, when it chooses (setup never
 * connects to it: an install must not fail because a server is down).
 */
export function setupCommand(): Command {
  return new Command('setup')
    .description('Generate the Prisma clients and gRPC stubs; on the SQLite default, also migrate and seed')
    .action(async () => {
      const { withDatabase } = await import('./database.ts');
      const { generatePrismaClients } = await import('../db/generate.ts');
      const { generateProto, listProtoFiles } = await import('../proto/generate.ts');
      const say = (s: string) => process.stdout.write(`${kleur.green('setup')} ${s}\n`);
      await withDatabase(async ({ config, target, db }) => {
        await generatePrismaClients(config.root);
        say('Prisma clients -> generated/prisma/{sqlite,postgresql}');
        const { protoDir, outputDir } = config.grpc.proto;
        // A new project (cfg startproject) has no .proto yet: nothing to generate, nothing wrong.
        const protos = await listProtoFiles(resolve(config.root, protoDir)).catch(() => []);
        if (protos.length === 0) say(`no .proto files in ${protoDir}/ yet: no gRPC stubs (cfg startapp NAME writes an app and its proto)`);
        else {
          const r = await generateProto({ protoDir, outputDir, cwd: config.root, es: config.grpc.proto.es });
          say(`gRPC stubs from ${r.protoFiles.length} proto file(s) -> ${outputDir}/`);
        }
        if (process.env.DATABASE_URL || target.provider !== 'sqlite') {
          say('the database is not the SQLite default: run cfg migrate, then cfg seed (README "Switching to PostgreSQL")');
          return;
        }
        const { applyMigrations } = await import('../db/apply.ts');
        const applied = await applyMigrations(config.root, target);
        say(`${applied.length} migration(s) applied to ${config.database.url}`);
        const { runSeeds } = await import('../db/seed.ts');
        const seeded = await runSeeds(config, db);
        say(`seeded: ${seeded.join(', ') || 'nothing'}`);
      });
    });
}
