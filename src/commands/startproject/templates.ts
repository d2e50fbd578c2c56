// What `cfg startproject NAME` writes besides prisma/ (which is copied from ./template/prisma: cfg's
// models and their migration): each file as a function of the project's name and of cfg's version.

/** The packages a project's own install scripts may run (npm's allowScripts), as this repository allows them. */
export const ALLOW_SCRIPTS = {
  'better-sqlite3': true,
  esbuild: true,
  '@bufbuild/buf': true,
  protobufjs: true,
  prisma: true,
  '@prisma/engines': false,
} as const;

/** What a project's package.json needs from cfg: scripts, the dependency, the tools `cfg check` and the tests use. */
export function packageFields(cfgSpec: string): {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
} {
  return {
    scripts: {
      // npm install: the Prisma clients, the gRPC stubs, and on the SQLite default the migrations.
      postinstall: 'cfg setup',
      start: 'cfg rungrpc',
      check: 'cfg check',
      // Node 20's test runner takes no globs: the shell finds the test files.
      test: "node --import tsx --test $(find . -path ./node_modules -prune -o -name '*.test.ts' -print)",
    },
    dependencies: { 'cfg-grpc': cfgSpec },
    // typescript: what `cfg check` type-checks the services with (and your editor); tsx: the tests' loader.
    devDependencies: { '@types/node': '^20.19.0', tsx: '^4.23.0', typescript: '^5.9.3' },
  };
}

/** package.json of a new project. */
export function packageJsonTemplate(name: string, cfgSpec: string): string {
  const fields = packageFields(cfgSpec);
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.19' },
    ...fields,
    allowScripts: ALLOW_SCRIPTS,
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** cfg.config.ts: every setting has a default; the apps to serve are listed. */
export function configTemplate(apps: readonly string[]): string {
  return `import { defineConfig } from 'cfg-grpc';

// The project's settings (Django-CFG's api/config.py). Every field is optional: by default cfg
// serves on port 50051 with reflection and health, on the SQLite file var/cfg.sqlite3 (or
// DATABASE_URL). Each setting, its default and its environment variable: cfg-grpc's
// docs/configuration.md.
export default defineConfig({
  grpc: {
    // One label per folder of apps/ to serve (npx cfg startapp NAME writes an app and adds it here).
    enabledApps: [${apps.map((a) => `'${a}'`).join(', ')}],
  },
});
`;
}

/** cfg-env.d.ts: the project's Prisma client as the type of cfg's database handle. */
export function envTypesTemplate(): string {
  return `// Gives cfg's database handle (getDb() from 'cfg-grpc/db', this.db in a service) this project's
// models: the Prisma client \`cfg setup\` generates from prisma/schema.prisma. Written by
// \`cfg startproject\`; keep it.
import type { PrismaClient } from './generated/prisma/sqlite/client.ts';

declare module 'cfg-grpc/db' {
  interface ProjectTypes {
    prismaClient: PrismaClient;
  }
}
`;
}

/** tsconfig.json: the options cfg's own code is checked with (cfg check uses them too). */
export function tsconfigTemplate(): string {
  const config = {
    compilerOptions: {
      target: 'ES2023',
      lib: ['ES2023'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      types: ['node'],
      strict: true,
      noImplicitOverride: true,
      allowImportingTsExtensions: true,
      verbatimModuleSyntax: true,
      esModuleInterop: true,
      skipLibCheck: true,
      resolveJsonModule: true,
      noEmit: true,
    },
    include: ['cfg.config.ts', 'cfg-env.d.ts', 'apps', 'generated', 'test'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function gitignoreTemplate(): string {
  return `node_modules/
# written by cfg (stubs, descriptor set, Prisma clients): npm install regenerates them
/generated/
# the SQLite database of the default database.url
/var/
`;
}

/** .ci/run: what CI runs on a clean clone. */
export function ciTemplate(): string {
  return `#!/usr/bin/env bash
# CI on a clean clone: install (its postinstall runs cfg setup: Prisma clients, gRPC stubs, the
# SQLite database migrated), then cfg's checks and the tests. Nothing installed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
export NO_COLOR=1
npm install --no-audit --no-fund
npx cfg check          # protos, stubs, database, each app, types
npx cfg proto lint     # buf's STANDARD rules over proto/ (cfg proto breaking --against main: wire changes)
npm test
`;
}

/** README.md of a new project: the two commands, and where to go next. */
export function readmeTemplate(name: string, app: string | null): string {
  const serve = app
    ? `serves the \`${app}\` app (apps/${app}, proto/${app}.proto): each of its methods answers UNIMPLEMENTED
until you write it in \`apps/${app}/grpc_services/\`.`
    : 'serves the apps listed in `grpc.enabledApps` of `cfg.config.ts`: write one first (below).';
  return `# ${name}

A gRPC service on [cfg](https://www.npmjs.com/package/cfg-grpc), Django-CFG's gRPC integration for Node.js.

\`\`\`bash
npm install && npx cfg rungrpc   # install (postinstall: cfg setup), then serve on port 50051
npx cfg startapp notes           # a new app: proto/notes.proto, apps/notes/grpc_services/, test/notes.test.ts
\`\`\`

\`npx cfg rungrpc\` ${serve} Reflection and health are on, so
\`npx cfg list localhost:50051\` and \`npx cfg call localhost:50051 SERVICE/METHOD '{...}'\` work
at once.

| where | what |
| --- | --- |
| \`cfg.config.ts\` | the settings (\`grpc.enabledApps\`: the apps served) |
| \`proto/\` | the .proto files; \`npx cfg generate-proto\` writes their stubs into \`generated/\` |
| \`apps/NAME/grpc_services/\` | each app's service classes and their registration |
| \`prisma/schema.prisma\` | the database models: cfg's (users, API keys, request log) and yours; \`npx cfg makemigrations --name N && npx cfg migrate\` after a change |
| \`test/\` | \`npm test\`: the apps served on a free port (\`startTestServer\` from \`cfg-grpc/testing\`) |
| \`.ci/run\` | what CI runs: install, \`cfg check\`, \`cfg proto lint\`, \`npm test\` |

PostgreSQL: \`export DATABASE_URL=postgresql://user@host:5432/db?schema=app\`, then \`npx cfg migrate\`.
Every command: \`npx cfg --help\`.
`;
}
