// What `cfg startapp NAME` writes, in one place: the proto, the handlers module, the service
// class and the test. Each is a function of the app's names (names.ts) and of where the files go.
import type { AppNames, RpcNames } from './names.ts';

/** Where the files go, as the templates refer to them (project-relative, "/" separators). */
export interface TemplatePaths {
  /** "proto/notes.proto" */
  proto: string;
  /** "apps/notes/grpc_services/notes_service.ts" */
  serviceClass: string;
  /** The generated stub, imported from apps/NAME/grpc_services/: "../../../generated/notes.ts". */
  stubFromApp: string;
  /** The generated stub, imported from test/: "../generated/notes.ts". */
  stubFromTest: string;
}

/** The message every placeholder method ends the call with (status UNIMPLEMENTED). */
export const notImplemented = (names: AppNames, rpc: RpcNames) => `${names.service}.${rpc.rpc} is not implemented yet`;

const streams = (rpc: RpcNames) => ({
  requests: rpc.kind === 'client-stream' || rpc.kind === 'bidi',
  responses: rpc.kind === 'server-stream' || rpc.kind === 'bidi',
});

/** proto/NAME.proto: package NAME.v1, one service, a request and a response per RPC (buf STANDARD lint, buf format). */
export function protoTemplate(names: AppNames, paths: TemplatePaths): string {
  const rpcs = names.rpcs.map((r) => {
    const s = streams(r);
    return `  // ${r.shape[0]!.toUpperCase()}${r.shape.slice(1)}.\n  rpc ${r.rpc}(${s.requests ? 'stream ' : ''}${r.request}) returns (${s.responses ? 'stream ' : ''}${r.response});`;
  });
  const messages = names.rpcs.flatMap((r) => [r.request, r.response]).map((m) => `message ${m} {\n  string text = 1;\n}\n`);
  return `syntax = "proto3";

// The ${names.app} app's API, written by \`cfg startapp ${names.app}\`. Add fields and RPCs here:
// cfg generate-proto (or cfg rungrpc --reload, on save) regenerates its stubs. Once clients use
// it, keep field numbers, names and types: cfg proto breaking says what would break them.
package ${names.protoPackage};

// Served by ${names.service} in ${paths.serviceClass}.
service ${names.service} {
${rpcs.join('\n')}
}

${messages.join('\n')}`;
}

/** apps/NAME/grpc_services/index.ts: the handlers module discovery imports. */
export function handlersTemplate(names: AppNames, paths: TemplatePaths): string {
  const cls = names.serviceFile.replace(/\.ts$/, '');
  return `import type { GrpcHandlers } from 'cfg-grpc';

/**
 * The ${names.app} app's services, found by \`cfg rungrpc\` (apps/${names.app}/grpc_services) when
 * "${names.app}" is in grpc.enabledApps. Imports stay inside grpcHandlers: loading this module is
 * cheap and free of import cycles. Return more pairs to serve more services.
 */
export const grpcHandlers: GrpcHandlers = async (server) => {
  const { registration } = await import('cfg-grpc');
  const { ${names.definition} } = await import('${paths.stubFromApp}');
  const { ${names.service} } = await import('./${cls}.ts');
  const entry = registration(${names.definition}, ${names.service});
  if (server !== null) entry[1](new ${names.service}(), server);
  return [entry];
};
`;
}

function methodTemplate(names: AppNames, rpc: RpcNames): string {
  const s = streams(rpc);
  const input = s.requests ? `requests: AsyncIterable<${rpc.request}>` : `request: ${rpc.request}`;
  const output = s.responses ? `AsyncGenerator<${rpc.response}>` : `Promise<${rpc.response}>`;
  const example = {
    unary: `return { text: \`you sent \${request.text}\` };`,
    'server-stream': `for (const word of request.text.split(' ')) yield { text: word };`,
    'client-stream': `let all = ''; for await (const r of requests) all += r.text; return { text: all };`,
    bidi: `for await (const r of requests) yield { text: r.text.toUpperCase() };`,
  }[rpc.kind];
  return `  /** ${rpc.rpc}: ${rpc.shape}. */
  async ${s.responses ? '*' : ''}${rpc.method}(${input}, ctx: CallContext): ${output} {
    // e.g. ${example}
    this.abortUnimplemented(ctx, '${notImplemented(names, rpc)}');
  }`;
}

/** apps/NAME/grpc_services/NAME_service.ts: the class, every method a clear placeholder. */
export function serviceClassTemplate(names: AppNames, paths: TemplatePaths): string {
  const types = [...names.rpcs.flatMap((r) => [r.request, r.response]), names.definition].sort();
  return `import { BaseService, type CallContext, type ServiceImplementation } from 'cfg-grpc';
import type { ${types.join(', ')} } from '${paths.stubFromApp}';

/**
 * The ${names.app} app's service: ${paths.proto}, package ${names.protoPackage}.
 * Each method answers UNIMPLEMENTED until you write it; \`implements\` makes a missing, misnamed
 * or mistyped RPC a compile error. Method shapes per RPC kind: cfg's README ("Writing a
 * service"); helpers (this.abortNotFound, this.requireUser, ...): cfg's docs/services.md.
 */
export class ${names.service} extends BaseService implements ServiceImplementation<typeof ${names.definition}> {
${names.rpcs.map((r) => methodTemplate(names, r)).join('\n\n')}
}
`;
}

function testCase(names: AppNames, rpc: RpcNames): string {
  const s = streams(rpc);
  const arg = s.requests ? `[{ text: 'hello' }, { text: 'world' }]` : `{ text: 'hello' }`;
  const call = `client.${rpc.method}(${arg})`;
  return `  test('${rpc.rpc} (${rpc.kind}) answers UNIMPLEMENTED until it is written', async () => {
    await rejectsNotImplemented(${s.responses ? `drain(${call})` : call}, '${notImplemented(names, rpc)}');
  });`;
}

/** test/NAME.test.ts: starts the server with the app on a free port and calls each RPC. */
export function testTemplate(names: AppNames, paths: TemplatePaths): string {
  const streaming = names.rpcs.some((r) => streams(r).responses);
  const drain = streaming
    ? `
/** Reads a response stream to its end. */
async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const message of stream) out.push(message);
  return out;
}
`
    : '';
  return `// The ${names.app} app served for real: a server on a free port with this app alone, and a typed
// client calling each RPC. Written by \`cfg startapp ${names.app}\`: each method answers
// UNIMPLEMENTED until it is written; when you write one, make its test check the answer instead.
// startTestServer and its options (users, tokens, seeds): cfg's docs/testing.md.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Status, type ClientError, type TypedClient } from 'cfg-grpc';
import { startTestServer, type TestServer } from 'cfg-grpc/testing';
import { ${names.definition} } from '${paths.stubFromTest}';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The call fails as a placeholder method of ${paths.serviceClass} ends it. */
async function rejectsNotImplemented(call: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(call, (err: ClientError) => {
    assert.equal(err.code, Status.UNIMPLEMENTED);
    assert.equal(err.details, message);
    return true;
  });
}
${drain}
describe('${names.app} app', () => {
  let server: TestServer;
  let client: TypedClient<typeof ${names.definition}>;

  before(async () => {
    // This app alone on the loopback, on a SQLite database of its own; the client calls anonymously
    // (server.client(def, { user: await server.user('alice') }) calls as a user).
    server = await startTestServer({ root: ROOT, apps: ['${names.app}'] });
    client = server.client(${names.definition});
  });

  after(() => server?.stop());

${names.rpcs.map((r) => testCase(names, r)).join('\n\n')}
});
`;
}
