// Makes sure the nginx the load balancer test (test/balancer-nginx-postgresql.test.ts) runs is
// installed: Debian's package at /usr/sbin/nginx (NGINX_PATH overrides). Missing and running as
// root with apt-get: installs it (nginx-light is not in bookworm; `nginx` is the core package, its
// grpc module built in). Otherwise says exactly what to run and exits 1, so the test is never
// silently skipped. The test runs nginx itself, as the test user, from a temp directory: the
// package's service (systemd) is not needed and the package's own /etc/nginx is not used.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const NGINX = process.env.NGINX_PATH || '/usr/sbin/nginx';

function run(cmd, args) {
  console.error(`ensure-nginx: ${cmd} ${args.join(' ')}`);
  // policy-rc.d is not ours to write: the package's postinst may try to start its service, which
  // fails harmlessly without an init system; the binary is what the test needs.
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

export function ensureNginx() {
  if (existsSync(NGINX)) return true;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = existsSync('/usr/bin/apt-get');
  if (root && apt && !process.env.NGINX_PATH) {
    console.error(`ensure-nginx: ${NGINX} is missing; installing Debian's nginx package`);
    const install = () => run('apt-get', ['install', '-y', '--no-install-recommends', 'nginx']);
    // A fresh image has no package lists yet: install straight away, else update and retry.
    if (install() || (run('apt-get', ['update']) && install()) || existsSync(NGINX)) {
      if (existsSync(NGINX)) return true;
    }
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
