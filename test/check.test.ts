// `cfg check` and the guide's Troubleshooting list: each failure is named per app with its code
// and hint, and `cfg rungrpc` refuses to start with the same message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configText, fixtureDefaults, merge, projectsOfThisFile, type Project } from './fixtures/project.ts';

const project = projectsOfThisFile();

const troubled = {
  // 2. no grpc_services (or any other service module)
  'apps/empty/models.ts': 'export const nothing = 1;\n',
  // 3. a module without a grpcHandlers export (the Python spelling instead)
  'apps/nohandlers/grpc_services/index.ts': 'export function grpc_handlers() {\n  return [];\n}\n',
  // 4. the wrong return shape: a bare pair instead of a list of pairs
  'apps/badshape/grpc_services/index.ts': `import { registration } from 'cfg-grpc';
export async function grpcHandlers() {
  const { PingService } = await import('../../../generated/farewell.ts');
  class Ping {
    async ping() {
      return { from: 'x' };
    }
  }
  return registration(PingService, Ping);
}
`,
  // an import error: the module does not even parse
  'apps/broken/grpc_services/index.ts': 'export function grpcHandlers( {\n',
};

describe('cfg check', { concurrency: true }, () => {
  test('reports per app what was found, or exactly which condition failed', async () => {
    const apps = ['greeter', 'ghost', 'empty', 'nohandlers', 'badshape', 'broken'];
    const p = await project({ apps: ['greeter', 'multi'], files: troubled, config: { grpc: { enabledApps: apps } } });
    const { code, stdout } = await p.run(['check']);
    assert.equal(code, 1, stdout);
    const line = (label: string) => stdout.split('\n').find((l) => l.includes(` app ${label}: `)) ?? `(no line for ${label})\n${stdout}`;

    assert.match(line('greeter'), /^✓ app greeter: apps\/greeter\/grpc_services\/index\.ts -> fixture\.Greeter \(Greeter\)$/);
    // 1. app in enabledApps without a folder
    assert.match(line('ghost'), /✗ app ghost: E_APP_NOT_FOUND App "ghost" is in grpc.enabledApps but apps\/ghost\/ does not exist\./);
    assert.match(
      line('empty'),
      /✗ app empty: E_NO_SERVICE_MODULE App "empty" has no gRPC service module: none of apps\/empty\/grpc_services, apps\/empty\/grpc_handlers, apps\/empty\/services\/grpc, apps\/empty\/handlers\/grpc, apps\/empty\/api\/grpc exists/,
    );
    assert.match(
      line('nohandlers'),
      /✗ app nohandlers: E_NO_HANDLERS_EXPORT apps\/nohandlers\/grpc_services\/index\.ts has no exported grpcHandlers function \(found "grpc_handlers": the name is grpcHandlers\)\./,
    );
    assert.match(
      line('badshape'),
      /✗ app badshape: E_BAD_HANDLERS_RETURN grpcHandlers in apps\/badshape\/grpc_services\/index\.ts returned an item 0 that is not a \[ServiceClass, addToServer\] pair\./,
    );
    assert.match(line('broken'), /✗ app broken: E_MODULE_IMPORT apps\/broken\/grpc_services\/index\.ts failed to import: /);
    // The first troubleshooting item: a service module in an app that is not in enabledApps.
    assert.match(
      line('multi'),
      /! app multi: apps\/multi has a gRPC service module but "multi" is not in grpc\.enabledApps, so it is not served/,
    );
    // Hints say what to do next.
    assert.match(stdout, /hint Create apps\/empty\/grpc_services\/index\.ts exporting grpcHandlers\./);
    assert.match(stdout, /✓ stubs: generated\/ is up to date with proto\//);
    // The module that does not parse, with TypeScript's line and column.
    assert.match(
      stdout,
      /^✗ types: E_TYPECHECK 1 type error\(s\) in the services:\n {4}apps\/broken\/grpc_services\/index\.ts:2:1 TS1005: '\}' expected\.$/m,
    );
    // One warning for "multi", and one per lint line of the fixture protos (test/proto-loop.test.ts).
    const lint = stdout.split('\n').filter((l) => l.startsWith('! lint: ')).length;
    assert.match(stdout, new RegExp(`problems found: 1 service\\(s\\); 6 problem\\(s\\), ${1 + lint} warning\\(s\\)`));
  });

  test('all good: exit 0, with customServices and the handlersHook listed', async () => {
    const p = await project({
      apps: ['greeter', 'multi'],
      api: true,
      config: {
        grpc: {
          enabledApps: ['greeter'],
          customServices: { ping: 'apps/multi/grpc_services#Ping' },
          handlersHook: 'api/urls#grpcHandlers',
        },
      },
    });
    const { code, stdout } = await p.run(['check']);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /✓ app greeter: .* -> fixture\.Greeter \(Greeter\)/);
    assert.match(stdout, /✓ customServices\.ping: apps\/multi\/grpc_services\/index\.ts -> fixture\.Ping \(Ping\)/);
    assert.match(stdout, /✓ handlersHook: api\/urls\.ts#grpcHandlers/);
    assert.match(stdout, /no problems found: 2 service\(s\)/);
  });

  test('stubs not generated: E_STUBS_MISSING with the hint to run cfg generate-proto', async () => {
    const p = await project({ apps: ['greeter'], stubs: false });
    const { code, stdout } = await p.run(['check']);
    assert.equal(code, 1);
    assert.match(stdout, /✗ stubs: generated\/descriptors\.binpb is missing: stubs not generated\. Run cfg generate-proto/);
    assert.match(
      stdout,
      /✗ app greeter: E_STUBS_MISSING apps\/greeter\/grpc_services\/index\.ts imports generated stubs that do not exist/,
    );
    assert.match(stdout, /hint Generate them: cfg generate-proto/);
  });
});

describe('cfg rungrpc refuses to start with the same message', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['ghost', 'E_APP_NOT_FOUND', /App "ghost" is in grpc.enabledApps but apps\/ghost\/ does not exist\./],
    ['empty', 'E_NO_SERVICE_MODULE', /App "empty" has no gRPC service module/],
    ['nohandlers', 'E_NO_HANDLERS_EXPORT', /apps\/nohandlers\/grpc_services\/index\.ts has no exported grpcHandlers function/],
    ['badshape', 'E_BAD_HANDLERS_RETURN', /grpcHandlers in apps\/badshape\/grpc_services\/index\.ts returned an item 0/],
    ['broken', 'E_MODULE_IMPORT', /apps\/broken\/grpc_services\/index\.ts failed to import: /],
  ];
  let shared: Project;
  test('for each troubleshooting failure', async (t) => {
    shared = await project({ apps: ['greeter'], files: troubled });
    for (const [app, code, message] of cases) {
      await t.test(app, async () => {
        await shared.write('cfg.config.ts', configText(merge(fixtureDefaults([app]), {})));
        const result = await shared.run(['rungrpc']);
        assert.equal(result.code, 1);
        assert.equal(result.stdout, '', 'no banner');
        assert.match(result.stderr, new RegExp(`^error ${code} ${message.source}`, 'm'));
        assert.match(result.stderr, /^hint {2}\S/m);
      });
    }
  });

  test('stubs not generated', async () => {
    const p = await project({ apps: ['greeter'], stubs: false });
    const result = await p.run(['rungrpc']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error E_STUBS_MISSING apps\/greeter\/grpc_services\/index\.ts imports generated stubs that do not exist/m,
    );
    assert.match(result.stderr, /^hint {2}Generate them: cfg generate-proto/m);
  });

  test('nothing to serve, with the app that is not in enabledApps named', async () => {
    const p = await project({ apps: ['greeter'], config: { grpc: { enabledApps: [] } } });
    const result = await p.run(['rungrpc']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error E_NO_SERVICES No gRPC services to serve/m);
    assert.match(result.stderr, /^hint {2}apps\/greeter has a service module: add "greeter" to grpc\.enabledApps/m);
  });
});
