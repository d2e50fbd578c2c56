// npm's "prepare", run by `npm install` in this repository:
// 1. `cfg setup`: the Prisma clients, the gRPC stubs, and on the SQLite default the migrations and
//    demo data, so that `npx cfg rungrpc` serves at once;
// 2. builds dist/ (scripts/build.mjs), what the published package runs, so that every install
//    proves the build (npm pack builds it again, scripts/pack-manifest.mjs).
// A project that installs cfg-grpc runs neither: its own package.json's postinstall runs
// `cfg setup` (`cfg startproject` writes it).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'cfg'), 'setup'], { cwd: ROOT, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
build();
