// zod, for the config: import it from here, not from 'zod', so that there is one copy of it.
// It is loaded with require(), as its CommonJS build: under bin/cfg.js, tsx's loader hooks see
// every ES module imported, and zod's ES build is ~100 of them (~120 ms of start-up CPU, against
// ~45 ms for the CommonJS build, whose files the hooks do not see). Types come from 'zod' itself:
// `import type { ZodType } from 'zod'`.
import { createRequire } from 'node:module';
import type * as zod from 'zod';

export const z: typeof zod.z = (createRequire(import.meta.url)('zod') as typeof zod).z;

// The config is parsed about once per process: compiling parsers for its objects (zod's JIT)
// would cost more than it saves.
z.config({ jitless: true });
