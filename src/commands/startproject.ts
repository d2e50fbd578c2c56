import { relative } from 'node:path';
import { Command } from 'commander';
import kleur from 'kleur';

/** cfg startproject NAME: a new project that installs cfg-grpc (or cfg added to the project in "."). */
export function startprojectCommand(): Command {
  return new Command('startproject')
    .description(
      'Create a project that uses cfg: package.json (cfg-grpc, postinstall cfg setup), cfg.config.ts, apps/, proto/, prisma/ (cfg\'s models and migration), tsconfig.json, README.md, .ci/run. "." adds them to the current folder',
    )
    .argument('<name>', 'the folder to create (its name becomes the package name), or "." for the current folder')
    .option('--app <app>', 'also write one app, as cfg startapp APP does (unary RPC), and enable it')
    .option(
      '--cfg <spec>',
      'the cfg-grpc dependency to write (default: ^ this version); a tarball, folder or git URL installs cfg from there',
    )
    .action(async (name: string, opts: { app?: string; cfg?: string }) => {
      const { startProject } = await import('./startproject/create-project.ts');
      const r = await startProject({ target: name, ...(opts.app ? { app: opts.app } : {}), ...(opts.cfg ? { cfgSpec: opts.cfg } : {}) });
      const out = (line = '') => process.stdout.write(`${line}\n`);
      const where = relative(process.cwd(), r.root) || '.';
      out(
        `${kleur.green('created')} project ${kleur.bold(r.name)} in ${where}${r.merged ? " (package.json: cfg's scripts and dependencies added)" : ''}`,
      );
      for (const file of r.created) out(`  ${file}`);
      for (const note of r.notes) out(`${kleur.yellow('note')} ${note}`);
      out();
      out(kleur.bold('next:'));
      const cd = where === '.' ? '' : `cd ${where} && `;
      out(`  ${cd}npm install       # its postinstall runs cfg setup: Prisma clients, gRPC stubs, the SQLite database`);
      if (opts.app)
        out(`  npx cfg rungrpc      # serves the ${opts.app} app on port 50051; write its methods in apps/${opts.app}/grpc_services/`);
      else {
        out('  npx cfg startapp notes   # an app: proto, service class, test; enabled in cfg.config.ts');
        out('  npx cfg rungrpc          # serves the enabled apps on port 50051');
      }
    });
}
