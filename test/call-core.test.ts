// The call core (src/call) stays transport-free: it imports nothing from @grpc/grpc-js, nor from
// any layer of the project above it (only ../errors.ts and ../log/); its Status has gRPC's own
// numbers, so a transport passes them through; a GrpcError's trailers, given as a plain record,
// reach a grpc-js client as metadata.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { GrpcError, Status, statusName } from '../src/call/error.ts';
import { configureLogging } from '../src/log/logger.ts';
import { CfgServer } from '../src/server/cfg-server.ts';
import type { ServiceImplementation } from '../src/services/types.ts';
import { TestClient, type AnyDefinition } from './fixtures/client.ts';
import { importFrom, inProcessConfig, makeProject, REPO, type Project } from './fixtures/project.ts';

configureLogging({ level: 'silent' });
const CORE = join(REPO, 'src/call');

/** The import specifiers of a module's source (static imports and exports, and dynamic imports). */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const fromClause = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g;
  const bare = /(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  const dynamic = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const pattern of [fromClause, bare, dynamic]) for (const m of source.matchAll(pattern)) found.push(m[1]!);
  return found;
}

/** What the call core may import: its own files, ../errors.ts, ../log/*, Node's built-ins. */
function allowed(specifier: string): boolean {
  if (/^\.\/[\w-]+\.ts$/.test(specifier) || /^\.\.\/log\/[\w-]+\.ts$/.test(specifier)) return true;
  return specifier === '../errors.ts' || specifier.startsWith('node:');
}

test('the rule catches what it must: grpc-js, an upper layer, a dynamic import', () => {
  const bad = [
    "import { Metadata } from '@grpc/grpc-js';",
    "import type { AuthUser } from '../auth/types.ts';",
    "const m = await import('../transports/grpc/sizes.ts');",
    "export { x } from '../server/start.ts';",
    "import '../db/client.ts';",
  ];
  for (const line of bad)
    assert.ok(
      specifiers(line).some((s) => !allowed(s)),
      line,
    );
  const good = [
    "import { getLogger } from '../log/logger.ts';",
    "import type { CallContext } from './context.ts';",
    "import { CfgError } from '../errors.ts';",
  ];
  for (const line of good)
    assert.deepEqual(
      specifiers(line).filter((s) => !allowed(s)),
      [],
      line,
    );
});

test('src/call imports nothing from @grpc/grpc-js nor from a layer above it', () => {
  const files = readdirSync(CORE).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8, `expected the core's files in ${CORE}`);
  const offending = files.flatMap((f) =>
    specifiers(readFileSync(join(CORE, f), 'utf8'))
      .filter((s) => !allowed(s))
      .map((s) => `${f}: ${s}`),
  );
  assert.deepEqual(offending, []);
});

test("Status has gRPC's numbers and names, so a transport passes codes through", () => {
  const grpc = Object.entries(status).filter(([, v]) => typeof v === 'number');
  assert.deepEqual(Object.entries(Status), grpc);
  for (const [name, code] of grpc) assert.equal(statusName(code as number), name);
  assert.equal(statusName(99), 'STATUS_99');
});

let project: Project;
let server: CfgServer;
let client: TestClient;

before(async () => {
  project = await makeProject({ apps: [] });
  const Greeter = (await importFrom(project, 'generated/greeter.ts')).GreeterService as AnyDefinition;
  const implementation = {
    async sayHello() {
      const trailers = { 'retry-after-ms': '500', 'x-tags': ['a', 'b'], 'x-raw-bin': Buffer.from([1, 2]) };
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, 'slow down', trailers);
    },
  };
  server = new CfgServer(await inProcessConfig(project, []));
  server.addService(Greeter, implementation as unknown as ServiceImplementation<AnyDefinition>);
  client = new TestClient(Greeter, await server.listen('127.0.0.1', 0));
});
after(async () => {
  client?.close();
  server?.forceShutdown();
  await project?.remove();
});

test("a GrpcError's trailers, a plain record, reach a grpc-js client as metadata", async () => {
  const err = (await client.unary('sayHello', { name: 'x' }).then(
    () => assert.fail('succeeded'),
    (e: unknown) => e,
  )) as ServiceError;
  assert.equal(err.code, status.RESOURCE_EXHAUSTED);
  assert.equal(err.details, 'slow down');
  assert.deepEqual(err.metadata.get('retry-after-ms'), ['500']);
  assert.deepEqual(err.metadata.get('x-tags'), ['a, b']); // repeated values, joined as HTTP/2 joins a repeated header
  assert.deepEqual(err.metadata.get('x-raw-bin'), [Buffer.from([1, 2])]);
});
