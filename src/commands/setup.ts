import { Command } from 'commander';
import kleur from 'kleur';

/**
 * cfg setup (run by `npm ci`): the Prisma clients and gRPC stubs; then, on the embedded SQLite
 * default only (no DATABASE_URL), migrations and seeds, so `npx cfg rungrpc` serves at once.
 * A PostgreSQL deployment runs `cfg migrate` itself, when it chooses.
 */
export function setupCommand(): Command {
  return new Command('setup')
    .description('Generate the Prisma clients and gRPC stubs; on the SQLite default, also migrate and seed')
    .action(async () => {
      const { loadConfig } = await import('../config/load.ts');
      const { generatePrismaClients } = await import('../db/generate.ts');
      const { generateProto } = await import('../proto/generate.ts');
      const config = await loadConfig({ required: false });
      const say = (s: string) => process.stdout.write(`${kleur.green('setup')} ${s}\n`);
      await generatePrismaClients(config.root);
      say('Prisma clients -> generated/prisma/{sqlite,postgresql}');
      const r = await generateProto({ protoDir: config.grpc.proto.protoDir, outputDir: config.grpc.proto.outputDir, cwd: config.root });
      say(`gRPC stubs from ${r.protoFiles.length} proto file(s) -> ${config.grpc.proto.outputDir}/`);
      if (process.env.DATABASE_URL || !config.database.url.startsWith('file:')) {
        say('database is not the SQLite default: run cfg migrate (and cfg seed) when ready');
        return;
      }
      const { parseDatabaseUrl } = await import('../db/url.ts');
      const { applyMigrations } = await import('../db/apply.ts');
      const applied = await applyMigrations(config.root, parseDatabaseUrl(config.database.url, config.root));
      say(`${applied.length} migration(s) applied to ${config.database.url}`);
      const { getDb, closeDb } = await import('../db/client.ts');
      const { runSeeds } = await import('../db/seed.ts');
      try {
        const seeded = await runSeeds(config, await getDb(config));
        say(`seeded: ${seeded.join(', ') || 'nothing'}`);
      } finally {
        await closeDb();
      }
    });
}
