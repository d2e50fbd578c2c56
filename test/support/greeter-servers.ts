// In-process greeter servers for one test file: a project made on first use, servers started
// with the grpc.server settings a test names, all stopped and the project removed after the file.
import { after } from 'node:test';
import { startServer, type RunningServer } from '../../src/server/start.ts';
import { inProcessConfig, makeProject, type Project } from '../fixtures/project.ts';

export interface GreeterServers {
  /** The greeter project (made once). */
  project(): Promise<Project>;
  /** Every server started, in order. */
  readonly servers: readonly RunningServer[];
  /** Starts a server with these grpc.server settings; resolves to its port. */
  serve(server: Record<string, unknown>): Promise<number>;
}

export function greeterServers(): GreeterServers {
  let made: Promise<Project> | undefined;
  const servers: RunningServer[] = [];
  const project = () => (made ??= makeProject({ apps: ['greeter'] }));
  after(async () => {
    for (const s of servers) s.server.forceShutdown();
    await (await made)?.remove();
  });
  return {
    project,
    servers,
    async serve(server) {
      const running = await startServer(await inProcessConfig(await project(), ['greeter'], { grpc: { server } }));
      servers.push(running);
      return running.port;
    },
  };
}
