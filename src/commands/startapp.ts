import { relative } from 'node:path';
import { Command, Option } from 'commander';
import kleur from 'kleur';
import { RPC_KINDS, type RpcKind } from './startapp/names.ts';

/** cfg startapp NAME: a new app (proto, service class, handlers, test), generated and enabled. */
export function startappCommand(): Command {
  return new Command('startapp')
    .description(
      'Create an app: proto/NAME.proto, apps/NAME/grpc_services (a service class answering UNIMPLEMENTED), test/NAME.test.ts; generate its stubs and enable it',
    )
    .argument('<name>', 'the app name, lower_snake_case (notes, order_items)')
    .addOption(new Option('--rpc <kind...>', 'one RPC of each kind given (default: unary)').choices(RPC_KINDS))
    .action(async (name: string, opts: { rpc?: RpcKind[] }) => {
      const { startApp } = await import('./startapp/create-app.ts');
      const r = await startApp({ name, rpcs: opts.rpc ?? ['unary'] });
      const { names, config } = r;
      const out = (line = '') => process.stdout.write(`${line}\n`);
      const rel = (path: string) => relative(process.cwd(), `${config.root}/${path}`) || '.';
      out(
        `${kleur.green('created')} app ${kleur.bold(names.app)}: service ${names.protoPackage}.${names.service} (${names.rpcs.map((x) => x.rpc).join(', ')})`,
      );
      for (const file of r.created) out(`  ${rel(file)}`);
      out(
        `${kleur.green('generated')} ${r.generated.protoFiles.length} proto file(s) -> ${config.grpc.proto.outputDir}/ in ${r.generated.ms} ms`,
      );
      const e = r.enabled;
      if (e.done === 'added') out(`${kleur.green('enabled')} added '${names.app}' to grpc.enabledApps in cfg.config.ts`);
      else if (e.done === 'already') out(`${kleur.green('enabled')} '${names.app}' was already in grpc.enabledApps`);
      else {
        out(`${kleur.yellow('not enabled')}: ${e.reason}. Add this line to ${e.where}:`);
        out(`  ${e.line}`);
      }
      const cls = r.created.find((f) => f.endsWith(names.serviceFile))!;
      const test = r.created.find((f) => f.endsWith('.test.ts'))!;
      const first = names.rpcs[0]!;
      out();
      out(kleur.bold('next:'));
      out(
        `  1. write the methods in ${rel(cls)}: each answers UNIMPLEMENTED until you replace its abortUnimplemented line (an example sits above it)`,
      );
      const port = config.grpc.server.port || 'PORT'; // 0: whichever port rungrpc prints
      out(
        `  2. npx cfg rungrpc, then call it: grpcurl -plaintext -d '{"text": "hi"}' localhost:${port} ${names.protoPackage}.${names.service}/${first.rpc}`,
      );
      out(
        `  3. npm test -- ${names.app} runs ${rel(test)}; it expects UNIMPLEMENTED, so make each test check the real answer as you write the method`,
      );
      out(
        `  4. grow the API in ${rel(r.created[0]!)}: cfg rungrpc --reload regenerates the stubs on save; cfg proto lint and cfg proto breaking check it`,
      );
    });
}
