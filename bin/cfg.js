#!/usr/bin/env node
// The `cfg` executable. Registers tsx so that cfg itself, cfg.config.ts, apps/ and
// generated/ are loaded as TypeScript at run time, with no separate build step.
//
// It reaches node_modules/.bin/cfg through the project's "cfg-cli": "file:bin" dependency
// (bin/package.json), not through a "bin" field of the project's own package.json: npm exec
// installs a project that declares the bin it is asked for into its npx cache (a copy of the
// project, ~15 s the first time, ~1 s more on every call), while a bin in node_modules/.bin is run
// straight away. `import ... from 'cfg'` needs no link either: it is the project's own name,
// resolved through its "exports" (Node's package self-reference).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);
