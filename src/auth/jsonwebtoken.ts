// jsonwebtoken, loaded on first use: the first token signed or verified loads it (~25 ms with
// its dependencies), not the start of every process that only might (start-up reaches SERVING
// without it; server/start.ts loads it once the server is serving). It is CommonJS, so require()
// loads it synchronously where it is first needed.
import { createRequire } from 'node:module';
import type * as Jwt from 'jsonwebtoken';

const require = createRequire(import.meta.url);
let loaded: typeof Jwt | undefined;

/** The jsonwebtoken module. */
export function jsonwebtoken(): typeof Jwt {
  loaded ??= require('jsonwebtoken') as typeof Jwt;
  return loaded;
}
