import { Command } from 'commander';

/** cfg token --username U [--ttl 1h]: prints an access token (only the token, for $(...)). */
export function tokenCommand(): Command {
  return new Command('token')
    .description('Print an access token for a user (send it as "authorization: Bearer <token>")')
    .requiredOption('--username <username>', 'the user the token is for')
    .option('--ttl <duration>', 'lifetime: 90s, 30m, 1h, 1d; at most grpc.auth.maxTokenLifetimeSeconds (default 1d)', '1h')
    .action(async (opts: { username: string; ttl: string }) => {
      const { parseDuration } = await import('../auth/tokens.ts');
      process.stdout.write((await userAccessToken(opts.username, parseDuration(opts.ttl))) + '\n');
    });
}

/** An access token for an active user of the project's database (cfg token, cfg call --token-user). */
export async function userAccessToken(username: string, ttlSeconds: number): Promise<string> {
  const { withDatabase } = await import('./database.ts');
  const { mintAccessToken } = await import('../auth/tokens.ts');
  const { CfgError } = await import('../errors.ts');
  return withDatabase(async ({ config, db }) => {
    const user = await (await db()).user.findUnique({ where: { username }, select: { id: true, isActive: true } });
    if (!user) throw new CfgError('E_USER', `No user "${username}".`, `Create it: cfg createuser --username ${username}`);
    if (!user.isActive) throw new CfgError('E_USER', `User "${username}" is inactive; its tokens would be refused.`, 'Reactivate the user first.');
    return mintAccessToken(config, user.id, ttlSeconds);
  });
}
