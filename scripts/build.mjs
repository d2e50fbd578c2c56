// npm run build: src/ -> dist/, the JavaScript and type declarations the published package runs
// (tsconfig.build.json), plus the files src/ holds besides TypeScript (the dashboard, the built-in
// protos, the SQLite log worker, what startproject copies, the published Prisma client type).
// npm runs it on `npm install` here and before `npm pack`/`npm publish` (scripts/prepare.mjs).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
/** The declarations of the repository's generated Prisma client, which the compile checks src/ against. */
const PRISMA_TYPES = join(ROOT, '.build', 'prisma');
const PRISMA_CLIENT = join(ROOT, 'generated', 'prisma', 'sqlite');
const PROVIDERS = ['sqlite', 'postgresql'];

const tsc = (args) => {
  const bin = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('build: tsc failed (see above); fix it, then npm run build');
    process.exit(r.status ?? 1);
  }
};

export function build() {
  const started = performance.now();
  if (!existsSync(join(PRISMA_CLIENT, 'client.ts'))) {
    // A fresh clone packed before `npm install` ran setup: the clients only, no database.
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `(await import('./src/db/generate.ts')).generatePrismaClients(${JSON.stringify(ROOT)})`,
      ],
      { cwd: ROOT, stdio: 'inherit' },
    );
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  rmSync(PRISMA_TYPES, { recursive: true, force: true });
  mkdirSync(PRISMA_TYPES, { recursive: true });
  // Both generated clients' declarations: src/db/portable.ts checks one against the other.
  for (const provider of PROVIDERS) {
    const clientDir = join(ROOT, 'generated', 'prisma', provider);
    const config = join(PRISMA_TYPES, '..', `tsconfig.prisma-${provider}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.json'),
        compilerOptions: {
          noEmit: false,
          declaration: true,
          emitDeclarationOnly: true,
          rootDir: clientDir,
          outDir: join(PRISMA_TYPES, provider),
          paths: {},
          types: [],
        },
        files: [join(clientDir, 'client.ts')],
        include: [],
      }),
    );
    tsc(['-p', config]);
  }

  rmSync(DIST, { recursive: true, force: true });
  tsc(['-p', join(ROOT, 'tsconfig.build.json')]);
  let assets = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) {
        cpSync(path, join(DIST, relative(SRC, path)));
        assets++;
      }
    }
  };
  walk(SRC);
  console.log(
    `build: src/ -> dist/ (JavaScript, declarations and ${assets} other files) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) build();
