// Debian packages the tests and the bench install for themselves (chromium, nginx, nghttp2-client):
// only as root on a machine with apt-get, saying each command it runs. The callers say what to run
// when they cannot.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Whether this process may install packages: root, with apt-get. */
export function canAptInstall() {
  return typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/usr/bin/apt-get');
}

/** apt-get installs `pkg` (no recommends), printing each command after `tag:`; true when it succeeded. */
export function aptInstall(tag, pkg) {
  const run = (args) => {
    console.error(`${tag}: apt-get ${args.join(' ')}`);
    return spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  const install = () => run(['install', '-y', '--no-install-recommends', pkg]);
  // A fresh image has no package lists yet: install straight away, else update and retry.
  return install() || (run(['update']) && install());
}
