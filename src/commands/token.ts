import { Command } from 'commander';

/** cfg token --username U [--ttl 1h]: prints an access token (only the token, for $(...)). */
export function tokenCommand(): Command {
  return new Command('token')
    .description('Print an access token for a user (send it as "authorization: Bearer <token>")')
    .requiredOption('--username <username>', 'the user the token is for')
    .option('--ttl <duration>', 'lifetime: 90s, 30m, 1h, 1d; at most grpc.auth.maxTokenLifetimeSeconds (default 1d)', '1h')
    .action(async (opts: { username: string; ttl: string }) => {
      const { parseDuration } = await import('../auth/tokens.ts');
      process.stdout.write(`${await userAccessToken(opts.username, parseDuration(opts.ttl))}\n`);
    });
}

/** An access token for an active user of the project's database (cfg token, cfg call --token-user). */
export async function userAccessToken(username: string, ttlSeconds: number): Promise<string> {
  const [{ withDatabase }, { accessTokenFor }] = await Promise.all([import('./database.ts'), import('../auth/manage.ts')]);
  return withDatabase(async ({ config, db }) => accessTokenFor(await db(), config, username, ttlSeconds));
}
