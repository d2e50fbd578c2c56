import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_FILE, findProjectRoot } from '../../config/load.ts';
import { CfgError } from '../../errors.ts';
import { appNames } from '../startapp/names.ts';
import { handlersTemplate, protoTemplate, serviceClassTemplate, testTemplate } from '../startapp/templates.ts';
import {
  ALLOW_SCRIPTS,
  ciTemplate,
  configTemplate,
  envTypesTemplate,
  gitignoreTemplate,
  packageFields,
  packageJsonTemplate,
  readmeTemplate,
  tsconfigTemplate,
} from './templates.ts';

/** cfg's models and their migration, copied into every new project (src/ and dist/ alike: the build copies it). */
const TEMPLATE = fileURLToPath(new URL('./template/', import.meta.url));
/** cfg's own package.json: the version a new project depends on. */
const OWN_PACKAGE = fileURLToPath(new URL('../../../package.json', import.meta.url));

export interface StartProjectOptions {
  /** The folder to create, or "." (an existing folder, such as a repository with a package.json of its own). */
  target: string;
  /** Where cfg runs (default process.cwd()). */
  cwd?: string;
  /** The cfg-grpc dependency written to package.json: default ^<this cfg's version>. */
  cfgSpec?: string;
  /** One app written into the project, as `cfg startapp` writes it (unary RPC), and enabled. */
  app?: string;
}

export interface StartProjectResult {
  root: string;
  name: string;
  /** The files written, project-relative. */
  created: string[];
  /** package.json was there and got cfg's scripts and dependencies (only those it did not have). */
  merged: boolean;
  /** Notes for the user: a package.json that is not an ES module package, say. */
  notes: string[];
}

const NPM_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const posix = (path: string) => path.split(sep).join('/');

/** The version of the cfg that runs. */
export function cfgVersion(): string {
  return (JSON.parse(readFileSync(OWN_PACKAGE, 'utf8')) as { version: string }).version;
}

/**
 * `cfg startproject TARGET`: a project that installs cfg-grpc from the registry: package.json,
 * cfg.config.ts, apps/ and proto/ (empty, or with one app), prisma/ (cfg's models and their
 * migration; the project's own models go beside them), tsconfig.json and cfg-env.d.ts, a README
 * with the two commands, .gitignore and a .ci/run. Into an existing folder (TARGET ".") it adds
 * what is missing and gives an existing package.json cfg's scripts and dependencies; it never
 * overwrites a file: a folder that already holds any file it would write is refused, whole.
 */
export async function startProject(options: StartProjectOptions): Promise<StartProjectResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const root = resolve(cwd, options.target);
  const inPlace = existsSync(root);
  const existingPackage = join(root, 'package.json');
  const pkgText = inPlace && existsSync(existingPackage) ? await readFile(existingPackage, 'utf8') : null;
  let pkg: Record<string, unknown> | null = null;
  if (pkgText !== null) {
    try {
      pkg = JSON.parse(pkgText) as Record<string, unknown>;
    } catch (err) {
      throw new CfgError('E_USAGE', `${existingPackage} is not valid JSON: ${(err as Error).message}`, 'Fix package.json first.');
    }
  }
  const name = typeof pkg?.name === 'string' ? pkg.name : basename(root).toLowerCase();
  if (!NPM_NAME.test(name)) {
    throw new CfgError(
      'E_USAGE',
      `"${name}" is not a valid package name for the project.`,
      'Name the folder in lower case: letters, digits, "-", "_" and ".", e.g. cfg startproject shop-api',
    );
  }
  if (root.split(sep).includes('node_modules')) {
    throw new CfgError(
      'E_USAGE',
      `${root} is inside node_modules.`,
      'Run cfg startproject in your own project, not in an installed package.',
    );
  }
  const above = findProjectRoot(root);
  if (above === root) {
    throw new CfgError(
      'E_PROJECT_EXISTS',
      `${root} is a cfg project already: it has ${CONFIG_FILE}.`,
      'Add an app to it instead: cfg startapp NAME',
    );
  }

  const cfgSpec = options.cfgSpec ?? `^${cfgVersion()}`;
  const names = options.app ? appNames(options.app, ['unary']) : null;
  const files = new Map<string, string>([
    [CONFIG_FILE, configTemplate(names ? [names.app] : [])],
    ['cfg-env.d.ts', envTypesTemplate()],
    ['README.md', readmeTemplate(name, names?.app ?? null)],
    ['.ci/run', ciTemplate()],
  ]);
  if (pkg === null) files.set('package.json', packageJsonTemplate(name, cfgSpec));
  if (!inPlace || !existsSync(join(root, 'tsconfig.json'))) files.set('tsconfig.json', tsconfigTemplate());
  if (!inPlace || !existsSync(join(root, '.gitignore'))) files.set('.gitignore', gitignoreTemplate());
  if (names) {
    const stub = `generated/${names.app}.ts`;
    const paths = {
      proto: `proto/${names.app}.proto`,
      serviceClass: `apps/${names.app}/grpc_services/${names.serviceFile}`,
      stubFromApp: `../../../${stub}`,
      stubFromTest: `../${stub}`,
    };
    files.set(paths.proto, protoTemplate(names, paths));
    files.set(`apps/${names.app}/grpc_services/index.ts`, handlersTemplate(names, paths));
    files.set(paths.serviceClass, serviceClassTemplate(names, paths));
    files.set(`test/${names.app}.test.ts`, testTemplate(names, paths));
  }
  const prismaFiles = listFiles(join(TEMPLATE, 'prisma')).map((f) => `prisma/${f}`);
  if (inPlace && existsSync(join(root, 'README.md'))) files.delete('README.md');

  const taken = [...files.keys(), ...prismaFiles].filter((f) => existsSync(join(root, f)));
  if (taken.length > 0) {
    throw new CfgError(
      'E_PROJECT_EXISTS',
      `${relative(cwd, root) || '.'} already has ${taken.slice(0, 3).join(', ')}${taken.length > 3 ? ` and ${taken.length - 3} more` : ''}: cfg startproject writes nothing over a file.`,
      'Choose another folder, or move those files first.',
    );
  }

  await mkdir(root, { recursive: true });
  const created: string[] = [];
  for (const [path, text] of files) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text, { flag: 'wx', mode: path === '.ci/run' ? 0o755 : 0o644 });
    created.push(path);
  }
  await cp(join(TEMPLATE, 'prisma'), join(root, 'prisma'), { recursive: true, errorOnExist: true, force: false });
  created.push(...prismaFiles);
  for (const dir of ['apps', 'proto']) {
    if (!existsSync(join(root, dir))) {
      await mkdir(join(root, dir));
      await writeFile(join(root, dir, '.gitkeep'), '');
      created.push(`${dir}/.gitkeep`);
    }
  }

  const notes: string[] = [];
  if (pkg !== null) {
    const fields = packageFields(cfgSpec);
    const merge = (key: 'scripts' | 'dependencies' | 'devDependencies', skip: (k: string) => boolean = () => false) => {
      const have = (pkg[key] ?? {}) as Record<string, string>;
      for (const [k, v] of Object.entries(fields[key])) if (!(k in have) && !skip(k)) have[k] = v;
      pkg[key] = have;
    };
    merge('scripts');
    // A project that installed cfg-grpc already names it (with its own spec) in dependencies.
    merge('dependencies', (k) => k in ((pkg.devDependencies ?? {}) as object));
    merge('devDependencies', (k) => k in ((pkg.dependencies ?? {}) as object));
    pkg.allowScripts = { ...ALLOW_SCRIPTS, ...((pkg.allowScripts ?? {}) as object) };
    await writeFile(existingPackage, `${JSON.stringify(pkg, null, 2)}\n`);
    if (pkg.type !== 'module')
      notes.push(
        `package.json has no "type": "module": cfg's files (cfg.config.ts, apps/, generated/) are ES modules; add it unless other code of yours needs CommonJS.`,
      );
    if (!files.has('README.md'))
      notes.push('README.md was there and is kept: add the two commands to it (npm install && npx cfg rungrpc; npx cfg startapp NAME).');
  }
  return { root, name, created, merged: pkg !== null, notes };
}

/** The files under `dir`, relative, "/"-separated, sorted. */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else out.push(posix(relative(dir, join(d, entry.name))));
    }
  };
  walk(dir);
  return out.sort();
}
