// Discovery as the guide describes it: the five module names, several services per app, several
// apps, customServices (both forms) and handlersHook, each proven by serving and calling.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { discover } from '../src/discovery/discover.ts';
import { configureLogging } from '../src/log/logger.ts';
import { startServer, type RunningServer } from '../src/server/start.ts';
import { callError, TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, pingModule, type Json, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });

let defs: { GreeterService: AnyDefinition; FarewellService: AnyDefinition; PingService: AnyDefinition };
const projects: Project[] = [];

before(async () => {
  const p = await makeProject();
  projects.push(p);
  defs = { ...(await importFrom(p, 'generated/greeter.ts')), ...(await importFrom(p, 'generated/farewell.ts')) } as typeof defs;
});
after(async () => {
  for (const p of projects) await p.remove();
});

async function project(options: Parameters<typeof makeProject>[0]): Promise<Project> {
  const p = await makeProject(options);
  projects.push(p);
  return p;
}

/** Starts the project's server in this process, runs `fn` with its port, and always stops it. */
async function serving(p: Project, apps: string[], over: Json, fn: (port: number) => Promise<void>): Promise<void> {
  const running: RunningServer = await startServer(await inProcessConfig(p, apps, over));
  try {
    await fn(running.port);
  } finally {
    running.server.forceShutdown();
  }
}

async function ask(definition: AnyDefinition, port: number, method: string, request: unknown = {}): Promise<Record<string, unknown>> {
  const client = new TestClient(definition, port);
  try {
    return await client.unary(method, request);
  } finally {
    client.close();
  }
}

describe('each module name the guide lists is discovered', () => {
  const layouts = [
    ['grpc_services', 'apps/solo/grpc_services/index.ts'],
    ['grpc_handlers', 'apps/solo/grpc_handlers.ts'],
    ['services/grpc', 'apps/solo/services/grpc/index.ts'],
    ['handlers/grpc', 'apps/solo/handlers/grpc.ts'],
    ['api/grpc', 'apps/solo/api/grpc/index.ts'],
  ] as const;
  for (const [module, file] of layouts) {
    test(`${module} (${file.endsWith('index.ts') ? 'a folder with index.ts' : 'a .ts file'})`, async () => {
      const p = await project({ files: { [file]: pingModule(file, module) } });
      const found = await discover(await inProcessConfig(p, ['solo']));
      assert.equal(found.services.length, 1);
      assert.equal(found.services[0]!.source, file);
      assert.equal(found.services[0]!.loggerName, `apps.solo.${module.replace('/', '.')}`);
      await serving(p, ['solo'], {}, async (port) => {
        assert.deepEqual(await ask(defs.PingService, port, 'ping'), { from: module });
      });
    });
  }

  test('the first module that exists wins, in the guide order', async () => {
    const p = await project({
      files: {
        'apps/solo/api/grpc/index.ts': pingModule('apps/solo/api/grpc/index.ts', 'api/grpc'),
        'apps/solo/grpc_handlers.ts': pingModule('apps/solo/grpc_handlers.ts', 'grpc_handlers'),
      },
    });
    await serving(p, ['solo'], {}, async (port) => {
      assert.deepEqual(await ask(defs.PingService, port, 'ping'), { from: 'grpc_handlers' });
    });
  });
});

test('an app module may return several services', async () => {
  const p = await project({ apps: ['multi'] });
  await serving(p, ['multi'], {}, async (port) => {
    assert.deepEqual(await ask(defs.FarewellService, port, 'sayGoodbye', { name: 'ann' }), { message: 'goodbye ann' });
    assert.deepEqual(await ask(defs.PingService, port, 'ping'), { from: 'multi' });
  });
});

test('several apps each contribute their services', async () => {
  const p = await project({ apps: ['greeter', 'multi'] });
  await serving(p, ['greeter', 'multi'], {}, async (port) => {
    assert.equal((await ask(defs.GreeterService, port, 'sayHello', { name: 'bo' })).message, 'hello bo');
    assert.deepEqual(await ask(defs.FarewellService, port, 'sayGoodbye', { name: 'bo' }), { message: 'goodbye bo' });
    assert.deepEqual(await ask(defs.PingService, port, 'ping'), { from: 'multi' });
  });
});

test('an app not in enabledApps is not served', async () => {
  const p = await project({ apps: ['greeter', 'multi'] });
  await serving(p, ['greeter'], {}, async (port) => {
    const err = await callError(ask(defs.PingService, port, 'ping'));
    assert.equal(err.code, status.UNIMPLEMENTED);
  });
});

test('customServices: a class with a static definition, and a class its module grpcHandlers lists', async () => {
  const p = await project({ apps: ['greeter', 'multi'] });
  const over = {
    grpc: {
      autoRegisterApps: false,
      customServices: { bye: 'apps/multi/grpc_services#Farewell', ping: 'apps/multi/grpc_services#Ping' },
    },
  };
  const found = await discover(await inProcessConfig(p, ['greeter'], over));
  assert.deepEqual(
    found.services.map((s) => [s.app, s.registration[0].name]),
    [
      ['bye', 'Farewell'],
      ['ping', 'Ping'],
    ],
  );
  await serving(p, ['greeter'], over, async (port) => {
    assert.deepEqual(await ask(defs.FarewellService, port, 'sayGoodbye', { name: 'cy' }), { message: 'goodbye cy' });
    assert.deepEqual(await ask(defs.PingService, port, 'ping'), { from: 'multi' });
    // autoRegisterApps: false, so the greeter app in enabledApps is not scanned.
    assert.equal((await callError(ask(defs.GreeterService, port, 'sayHello', { name: 'cy' }))).code, status.UNIMPLEMENTED);
  });
});

test('handlersHook is called with the server and registers by hand', async () => {
  const p = await project({ apps: ['greeter', 'multi'], api: true });
  const over = { grpc: { autoRegisterApps: false, handlersHook: 'api/urls#grpcHandlers' } };
  await serving(p, [], over, async (port) => {
    assert.deepEqual(await ask(defs.FarewellService, port, 'sayGoodbye', { name: 'di' }), { message: 'goodbye di' });
  });
});

test('handlersHook and discovered apps together', async () => {
  const p = await project({ apps: ['greeter', 'multi'], api: true });
  await serving(p, ['greeter'], { grpc: { handlersHook: 'api/urls#grpcHandlers' } }, async (port) => {
    assert.equal((await ask(defs.GreeterService, port, 'sayHello', { name: 'ed' })).message, 'hello ed');
    assert.deepEqual(await ask(defs.FarewellService, port, 'sayGoodbye', { name: 'ed' }), { message: 'goodbye ed' });
  });
});

test('a service registered twice is refused', async () => {
  const p = await project({ apps: ['multi'] });
  const over = { grpc: { customServices: { again: 'apps/multi/grpc_services#Farewell' } } };
  await assert.rejects(startServer(await inProcessConfig(p, ['multi'], over)), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'E_DUPLICATE_SERVICE');
    assert.match(err.message, /fixture\.Farewell is registered twice/);
    return true;
  });
});
