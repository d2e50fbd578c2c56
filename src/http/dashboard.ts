import { readFileSync } from 'node:fs';
import type { Route } from './router.ts';

const DIR = new URL('./dashboard/', import.meta.url);
const FILES = [
  { path: '/', file: 'index.html', contentType: 'text/html; charset=utf-8' },
  { path: '/dashboard/app.js', file: 'app.js', contentType: 'text/javascript; charset=utf-8' },
  { path: '/dashboard/style.css', file: 'style.css', contentType: 'text/css; charset=utf-8' },
] as const;

/** The page holds no data (every number comes from /api/* with the person's credentials), so it is public. */
const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** GET /, /dashboard/app.js, /dashboard/style.css: read once at start-up, served from memory. */
export function dashboardRoutes(): Route[] {
  return FILES.map(({ path, file, contentType }) => {
    const body = readFileSync(new URL(file, DIR));
    return { method: 'GET', path, access: 'public', handle: () => ({ body, contentType, headers: HEADERS }) } satisfies Route;
  });
}
