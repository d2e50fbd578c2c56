// cfg-grpc/testing: what a project's tests use to serve its apps and call them (docs/testing.md).
// Nothing inside src/ imports this file.

/** A server on a free port with the given apps, a database of its own, typed clients and tokens. */
export { startTestServer } from '../testing/test-server.ts';
export type { TestServer, TestServerOptions, TestClientOptions, TestUser } from '../testing/test-server.ts';
export type { UserSpec } from '../auth/manage.ts';
