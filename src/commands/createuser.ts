import { Command } from 'commander';

const collect = (value: string, previous: string[]) => [...previous, value];

/** cfg createuser: create (or update) a user, with staff/superuser flags, permissions and groups. */
export function createuserCommand(): Command {
  return new Command('createuser')
    .description('Create a user, or update an existing one (flags, email, permissions and groups are added)')
    .requiredOption('--username <username>', 'login name')
    .option('--email <email>', 'email address')
    .option('--staff', 'staff user (requireStaff passes)')
    .option('--superuser', 'superuser (every permission)')
    .option('--inactive', 'create or mark the user inactive (its tokens are refused)')
    .option('--perm <app.codename>', 'grant an existing permission, e.g. crypto.delete_coin (repeatable)', collect, [] as string[])
    .option('--create-perm', 'create the --perm permissions that do not exist yet (otherwise they are refused)')
    .option('--group <name>', 'add to a group, created if missing (repeatable)', collect, [] as string[])
    .action(
      async (opts: {
        username: string;
        email?: string;
        staff?: boolean;
        superuser?: boolean;
        inactive?: boolean;
        perm: string[];
        createPerm?: boolean;
        group: string[];
      }) => {
        const { withDatabase } = await import('./database.ts');
        const { upsertUser } = await import('../auth/manage.ts');
        await withDatabase(async ({ db }) => {
          const { created, user } = await upsertUser(await db(), { ...opts, knownPermsOnly: opts.createPerm !== true });
          process.stdout.write(`${created ? 'created' : 'updated'} user ${user.username} (id ${user.id})\n`);
        });
      },
    );
}
