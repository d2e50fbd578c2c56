// Makes sure the Chromium the browser tests drive is installed: Debian's package at
// /usr/bin/chromium (CHROMIUM_PATH overrides). Missing and running as root with apt-get: installs
// it. Otherwise says exactly what to run and exits 1, so the browser test is never silently skipped.
// playwright-core never downloads a browser for cfg.
import { existsSync } from 'node:fs';
import { aptInstall, canAptInstall } from './apt-install.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return true;
  const apt = existsSync('/usr/bin/apt-get');
  if (canAptInstall() && !process.env.CHROMIUM_PATH) {
    console.error(`ensure-chromium: ${CHROMIUM} is missing; installing Debian's chromium package`);
    if (aptInstall('ensure-chromium', 'chromium') && existsSync(CHROMIUM)) return true;
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
