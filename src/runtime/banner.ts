import kleur from 'kleur';
import type { CfgServer } from '../server/cfg-server.ts';

/** The start-up banner: address, services and their methods, reflection, health, auth mode. */
export function printBanner(server: CfgServer, port: number, host: string, httpPort?: number): void {
  const c = server.config.grpc;
  const on = (v: boolean) => (v ? kleur.green('on') : kleur.dim('off'));
  const auth = !c.auth.enabled
    ? 'off'
    : c.auth.requireAuth
      ? `JWT ${c.auth.jwtAlgorithm}, required (except public methods)`
      : `JWT ${c.auth.jwtAlgorithm}, optional (each method's declared access applies)`;
  const lines = [
    `${kleur.bold('cfg gRPC server')} listening on ${kleur.cyan(`${host}:${port}`)} (pid ${process.pid})`,
    `  reflection ${on(c.server.enableReflection)}  health ${on(c.server.enableHealthCheck)}  auth ${auth}  maxWorkers ${c.server.maxWorkers}`,
  ];
  if (server.webPort !== undefined) {
    const h = c.web.host;
    lines.push(
      `  gRPC-Web and Connect ${kleur.cyan(`${server.webScheme}://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${server.webPort}/`)} (browsers, curl: JSON or binary; HTTP/1.1 and HTTP/2)`,
    );
  }
  if (httpPort !== undefined) {
    const h = c.http.host;
    lines.push(
      `  HTTP side port ${kleur.cyan(`http://${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${httpPort}/`)} (dashboard, /metrics, /api)`,
    );
  }
  for (const service of server.services) {
    if (service.builtin) continue;
    lines.push(`  ${kleur.bold(service.name)} ${kleur.dim(`(${service.className})`)}`);
    for (const m of service.methods) {
      const tag = m.kind === 'unary' ? '' : kleur.dim(` [${m.kind}]`);
      lines.push(`    ${m.name}${tag} ${kleur.dim(m.access.label)}`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
