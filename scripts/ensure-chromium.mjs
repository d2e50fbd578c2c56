// Makes sure the Chromium the browser tests drive is installed: Debian's package at
// /usr/bin/chromium (CHROMIUM_PATH overrides). Missing and running as root with apt-get: installs
// it. Otherwise says exactly what to run and exits 1, so the browser test is never silently skipped.
// playwright-core never downloads a browser for cfg.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function run(cmd, args) {
  console.error(`ensure-chromium: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return true;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = existsSync('/usr/bin/apt-get');
  if (root && apt && !process.env.CHROMIUM_PATH) {
    console.error(`ensure-chromium: ${CHROMIUM} is missing; installing Debian's chromium package`);
    // A fresh image has no package lists yet: install straight away, else update and retry.
    if (
      run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']) ||
      (run('apt-get', ['update']) && run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']))
    ) {
      if (existsSync(CHROMIUM)) return true;
    }
    console.error(`ensure-chromium: apt-get could not install chromium; fix the error above, then run npm test again.`);
    return false;
  }
  const how = process.env.CHROMIUM_PATH
    ? `unset CHROMIUM_PATH (to use Debian's /usr/bin/chromium) or point it at a Chromium executable`
    : apt
      ? `sudo apt-get install -y chromium   (Debian/Ubuntu; then run npm test again)`
      : `install Chromium and set CHROMIUM_PATH to its executable, e.g. CHROMIUM_PATH=/usr/bin/chromium-browser npm test`;
  console.error(`ensure-chromium: the dashboard test needs Chromium at ${CHROMIUM}, which is missing.\n  Run: ${how}`);
  return false;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exit(ensureChromium() ? 0 : 1);
