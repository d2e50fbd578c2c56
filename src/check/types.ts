import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import type { Report } from './report.ts';

type TS = typeof import('typescript');

/** Compiler options when the project has no tsconfig.json: what cfg's own code is checked with. */
const DEFAULTS = {
  target: 'ES2023',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  types: ['node'],
  strict: true,
  allowImportingTsExtensions: true,
  verbatimModuleSyntax: true,
  esModuleInterop: true,
  resolveJsonModule: true,
};

/** The .ts files of each service module: apps/<label>/grpc_services/** (or the one file), customServices, handlersHook. */
export function serviceSources(cfg: CfgConfig, modules: string[]): string[] {
  const files = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(m|c)?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.add(path);
    }
  };
  for (const source of modules) {
    const file = join(cfg.root, source);
    if (!existsSync(file)) continue;
    if (/^index\.(ts|js)$/.test(basename(file))) walk(dirname(file));
    else files.add(file);
  }
  return [...files].filter((f) => f.endsWith('ts')).sort();
}

interface Cached {
  key: string;
  inputs: Array<[string, number, number]>;
  errors: string[];
}

const stamp = (f: string): [string, number, number] | null => {
  try {
    const s = statSync(f);
    return [f, s.mtimeMs, s.size];
  } catch {
    return null;
  }
};

/** Where the last result for these files is kept, and under which key (typescript, tsconfig.json, the files). */
function cacheOf(root: string, files: string[], tsVersion: string): { file: string; key: string } {
  const configFile = join(root, 'tsconfig.json');
  const config = existsSync(configFile) ? readFileSync(configFile, 'utf8') : JSON.stringify(DEFAULTS);
  const key = createHash('sha256')
    .update(JSON.stringify([tsVersion, root, files, config]))
    .digest('hex');
  return { file: join(tmpdir(), `cfg-typecheck-${key.slice(0, 16)}.json`), key };
}

/** The errors of the last check of these files, if none of the files it read changed since. */
function fromCache(cache: { file: string; key: string }): string[] | null {
  try {
    const cached = JSON.parse(readFileSync(cache.file, 'utf8')) as Cached;
    if (cached.key === cache.key && cached.inputs.every((i) => JSON.stringify(stamp(i[0])) === JSON.stringify(i))) return cached.errors;
  } catch {
    // no cache yet, or an unreadable one
  }
  return null;
}

/**
 * The most specific line of a diagnostic ("Property 'sayHello' is missing in type 'Greeter' ..."),
 * with the long types TypeScript prints cut to their name ('ServiceImplementation<...>').
 */
function reason(message: string | import('typescript').DiagnosticMessageChain): string {
  let text = typeof message === 'string' ? message : message.messageText;
  for (let chain = typeof message === 'string' ? undefined : message; chain?.next?.length; chain = chain.next[0])
    text = chain.next[0]!.messageText;
  return text.replace(/'([\w.$]+)<[^']{40,}'/g, "'$1<...>'").replace(/'(\{[^']{60,})'/g, (_m, t: string) => `'${t.slice(0, 40)}...'`);
}

/**
 * Type-checks `files` (with what they import) against the generated definitions, as
 * `npm run typecheck` would, reporting errors in those files only. The result is kept in the temp
 * folder with the size and mtime of every file the program read: while none changes, the next
 * check answers without loading typescript.
 */
export async function typecheck(root: string, files: string[]): Promise<{ errors: string[]; cached: boolean } | null> {
  const require = createRequire(join(root, 'package.json'));
  let tsPath: string;
  try {
    tsPath = require.resolve('typescript');
  } catch {
    return null;
  }
  const tsVersion = (JSON.parse(readFileSync(join(dirname(dirname(tsPath)), 'package.json'), 'utf8')) as { version: string }).version;
  const cache = cacheOf(root, files, tsVersion);
  const hit = fromCache(cache);
  if (hit) return { errors: hit, cached: true };

  const mod = (await import(tsPath)) as TS & { default?: TS };
  const ts = mod.default ?? mod;
  const configFile = join(root, 'tsconfig.json');
  const options = existsSync(configFile)
    ? ts.parseJsonConfigFileContent(ts.readConfigFile(configFile, ts.sys.readFile).config, ts.sys, root).options
    : ts.convertCompilerOptionsFromJson(DEFAULTS, root).options;
  Object.assign(options, { noEmit: true, skipLibCheck: true, incremental: false, composite: false });
  const program = ts.createProgram({ rootNames: files, options });
  const errors: string[] = [];
  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (!sf) continue;
    // A file that does not parse: its syntax errors only (the rest follows from them).
    const syntax = program.getSyntacticDiagnostics(sf);
    for (const d of syntax.length ? syntax : program.getSemanticDiagnostics(sf)) {
      const { line, character } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
      errors.push(`${relative(root, file)}:${line + 1}:${character + 1} TS${d.code}: ${reason(d.messageText)}`);
    }
  }
  const inputs = program
    .getSourceFiles()
    .map((sf) => stamp(sf.fileName))
    .filter((s): s is [string, number, number] => s !== null);
  try {
    writeFileSync(cache.file, JSON.stringify({ key: cache.key, inputs, errors } satisfies Cached));
  } catch {
    // the cache is an optimisation only
  }
  return { errors, cached: false };
}

/**
 * `cfg check`'s "types" step: the apps' service classes against the generated definitions (a
 * misnamed, mistyped or wrong-kind RPC method is an error here, as `implements
 * ServiceImplementation<typeof XService>` promises). Needs typescript (a dev dependency).
 */
export async function checkTypes(cfg: CfgConfig, modules: string[], report: Report): Promise<void> {
  const files = serviceSources(cfg, modules);
  if (files.length === 0) return;
  const started = performance.now();
  const result = await typecheck(cfg.root, files);
  if (!result) {
    report.warn('types', 'typescript is not installed (a dev dependency): the services were not type-checked');
    return;
  }
  const { errors, cached } = result;
  const took = cached ? 'unchanged since the last check' : `${Math.round(performance.now() - started)} ms`;
  if (errors.length === 0) {
    report.good('types', `${files.length} file(s) of the services type-check against ${cfg.grpc.proto.outputDir}/ (${took})`);
    return;
  }
  report.fail(
    'types',
    new CfgError(
      'E_TYPECHECK',
      `${errors.length} type error(s) in the services:\n${errors.join('\n')}`,
      'A method must match its RPC in the .proto: its name (lowerCamelCase), request, response and kind (unary, stream). npm run typecheck checks the whole project.',
    ),
  );
}
