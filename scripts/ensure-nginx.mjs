// Makes sure the nginx the load balancer test (test/balancer-nginx-postgresql.test.ts) runs is
// installed: Debian's package at /usr/sbin/nginx (NGINX_PATH overrides). Missing and running as
// root with apt-get: installs it (nginx-light is not in bookworm; `nginx` is the core package, its
// grpc module built in). Otherwise says exactly what to run and exits 1, so the test is never
// silently skipped. The test runs nginx itself, as the test user, from a temp directory: the
// package's service (systemd) is not needed and the package's own /etc/nginx is not used.
import { existsSync } from 'node:fs';
import { aptInstall, canAptInstall } from './apt-install.mjs';

export const NGINX = process.env.NGINX_PATH || '/usr/sbin/nginx';

export function ensureNginx() {
  if (existsSync(NGINX)) return true;
  const apt = existsSync('/usr/bin/apt-get');
  if (canAptInstall() && !process.env.NGINX_PATH) {
    console.error(`ensure-nginx: ${NGINX} is missing; installing Debian's nginx package`);
    // The package's postinst may try to start its service, which fails harmlessly without an init
    // system (policy-rc.d is not ours to write): the binary is what the test needs.
    aptInstall('ensure-nginx', 'nginx');
    if (existsSync(NGINX)) return true;
    console.error('ensure-nginx: apt-get could not install nginx; fix the error above, then run the test again.');
    return false;
  }
  const how = process.env.NGINX_PATH
    ? `unset NGINX_PATH (to use Debian's /usr/sbin/nginx) or point it at an nginx executable (1.13.10 or newer, with the grpc module)`
    : apt
      ? 'sudo apt-get install -y nginx   (Debian/Ubuntu; then run the test again)'
      : 'install nginx (1.13.10 or newer, with the grpc module) and set NGINX_PATH to its executable';
  console.error(`ensure-nginx: the load balancer test needs nginx at ${NGINX}, which is missing.\n  Run: ${how}`);
  return false;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(ensureNginx() ? 0 : 1);
