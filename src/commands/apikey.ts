import { Command, InvalidArgumentError } from 'commander';
import kleur from 'kleur';
import type { Db } from '../db/client.ts';

/** Runs `fn` with the configured database, through the commands' one database helper. */
async function withDb(fn: (db: Db) => Promise<void>): Promise<void> {
  const { withDatabase } = await import('./database.ts');
  await withDatabase(async ({ db }) => fn(await db()));
}

const day = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) : '-');

/** cfg apikey create | list | revoke: API keys, sent as "x-api-key: <key>" (grpc.auth.apiKeyHeader). */
export function apikeyCommand(): Command {
  const command = new Command('apikey').description('Create, list and revoke API keys (sent as "x-api-key: <key>" instead of a token)');
  command
    .command('create')
    .description('Create a key for a user and print it (only this once: just its hash is stored)')
    .requiredOption('--username <username>', 'the user the key acts as')
    .requiredOption('--name <name>', 'what the key is for, e.g. "billing export"')
    .option('--expires <duration>', 'lifetime: 90s, 30m, 12h, 30d (default: never expires)')
    .action(async (opts: { username: string; name: string; expires?: string }) => {
      const { parseDuration } = await import('../auth/tokens.ts');
      const { createApiKeyFor } = await import('../auth/manage.ts');
      const expiresAt = opts.expires ? new Date(Date.now() + parseDuration(opts.expires) * 1000) : null;
      await withDb(async (db) => {
        const { key, apiKey } = await createApiKeyFor(db, { username: opts.username, name: opts.name, expiresAt });
        // The key alone on stdout (KEY=$(cfg apikey create ...)); the rest on stderr.
        process.stderr.write(
          `${kleur.green('created')} API key ${apiKey.id} "${apiKey.name}" for ${apiKey.username}, prefix ${apiKey.prefix}, expires ${day(apiKey.expiresAt)}\n`,
        );
        process.stderr.write(`${kleur.yellow('store it now')}: the key is not shown again\n`);
        process.stdout.write(`${key}\n`);
      });
    });
  command
    .command('list')
    .description('List every key: id, name, prefix, user, state, dates, who made it ("-": cfg apikey or code)')
    .action(async () => {
      const { listApiKeys } = await import('../auth/api-keys.ts');
      await withDb(async (db) => {
        const keys = await listApiKeys(db);
        if (keys.length === 0) {
          process.stdout.write('no API keys\n');
          return;
        }
        const now = Date.now();
        const rows = keys.map((k) => [
          String(k.id),
          k.name,
          k.prefix,
          k.username,
          !k.isActive ? 'revoked' : k.expiresAt && k.expiresAt.getTime() <= now ? 'expired' : 'active',
          day(k.createdAt),
          day(k.expiresAt),
          day(k.lastUsedAt),
          k.createdBy ?? '-',
        ]);
        const head = ['ID', 'NAME', 'PREFIX', 'USER', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED', 'MADE BY'];
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        for (const r of [head, ...rows])
          process.stdout.write(
            `${r
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd()}\n`,
          );
      });
    });
  command
    .command('revoke')
    .description('Revoke a key: refused at once by this process, by running servers within grpc.auth.apiKeyRecheckMs')
    .argument('<id>', 'the key id (cfg apikey list)', (raw: string) => {
      if (!/^\d+$/.test(raw)) throw new InvalidArgumentError('a key id (a number, see cfg apikey list)');
      return Number(raw);
    })
    .action(async (id: number) => {
      const { revokeApiKey } = await import('../auth/api-keys.ts');
      const { CfgError } = await import('../errors.ts');
      await withDb(async (db) => {
        if (!(await revokeApiKey(db, id))) throw new CfgError('E_NOT_FOUND', `No API key with id ${id}.`, 'cfg apikey list shows the ids.');
        process.stdout.write(`revoked API key ${id}\n`);
      });
    });
  return command;
}
