#!/usr/bin/env node
// The `cfg` executable. Registers tsx so that cfg itself, cfg.config.ts, apps/ and
// generated/ are loaded as TypeScript at run time, with no separate build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);
