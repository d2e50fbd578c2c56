import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import type { CfgConfig } from '../../config/types.ts';
import { CfgError, isCfgError } from '../../errors.ts';
import { generateProto, listProtoFiles, type GenerateResult } from '../../proto/generate.ts';
import { enableApp, type EnableResult } from './enable-app.ts';
import { appNames, declaredPackages, packageClashes, type AppNames, type RpcKind } from './names.ts';
import { handlersTemplate, protoTemplate, serviceClassTemplate, testTemplate, type TemplatePaths } from './templates.ts';

export interface StartAppOptions {
  name: string;
  rpcs: readonly RpcKind[];
  /** Where cfg runs (default process.cwd()); the project is the nearest cfg.config.ts above. */
  cwd?: string;
}

export interface StartAppResult {
  names: AppNames;
  config: CfgConfig;
  /** The files written, project-relative. */
  created: string[];
  generated: GenerateResult;
  enabled: EnableResult;
}

const posix = (path: string) => path.split(sep).join('/');
const importPath = (fromDir: string, to: string) => {
  const rel = posix(relative(fromDir, to));
  return rel.startsWith('.') ? rel : `./${rel}`;
};

/**
 * `cfg startapp NAME`: refuses a taken or invalid name, writes the proto, the handlers module,
 * the service class and the test, generates the stubs and enables the app. If generation
 * fails (another .proto is broken, say), every file it wrote is removed again.
 */
export async function startApp(options: StartAppOptions): Promise<StartAppResult> {
  const names = appNames(options.name, options.rpcs);
  const config = await loadConfig({ cwd: options.cwd });
  const root = config.root;
  const { protoDir, outputDir } = config.grpc.proto;
  const protoPath = resolve(root, protoDir);
  const appDir = join(root, 'apps', names.app, 'grpc_services');
  const stub = join(resolve(root, outputDir), `${names.app}.ts`);
  const files = {
    proto: join(protoPath, `${names.app}.proto`),
    handlers: join(appDir, 'index.ts'),
    serviceClass: join(appDir, names.serviceFile),
    test: join(root, 'test', `${names.app}.test.ts`),
  };
  await refuseTaken(names, root, protoPath, [join(root, 'apps', names.app), files.proto, files.test]);

  const paths: TemplatePaths = {
    proto: posix(relative(root, files.proto)),
    serviceClass: posix(relative(root, files.serviceClass)),
    stubFromApp: importPath(appDir, stub),
    stubFromTest: importPath(dirname(files.test), stub),
  };
  const written: string[] = [];
  const createdDirs: string[] = [];
  const write = async (file: string, text: string) => {
    for (let dir = dirname(file); !existsSync(dir); dir = dirname(dir)) createdDirs.push(dir);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text, { flag: 'wx' }); // never over a file that appeared meanwhile
    written.push(file);
  };
  let generated: GenerateResult;
  try {
    await write(files.proto, protoTemplate(names, paths));
    await write(files.handlers, handlersTemplate(names, paths));
    await write(files.serviceClass, serviceClassTemplate(names, paths));
    await write(files.test, testTemplate(names, paths));
    generated = await generateProto({ protoDir, outputDir, cwd: root });
  } catch (err) {
    for (const file of written) await rm(file, { force: true });
    for (const dir of createdDirs) await rmdir(dir).catch(() => undefined); // deepest first; only if empty
    if (isCfgError(err)) throw new CfgError(err.code, err.message, `Nothing was created. ${err.hint ?? ''}`.trim(), { cause: err });
    throw err;
  }
  const enabled = await enableApp(root, names.app, names.service);
  return { names, config, created: written.map((f) => posix(relative(root, f))), generated, enabled };
}

/** E_APP_EXISTS for a file or folder that is there; E_APP_NAME for a proto package the name would clash with. */
async function refuseTaken(names: AppNames, root: string, protoPath: string, taken: string[]): Promise<void> {
  for (const path of taken) {
    if (existsSync(path)) {
      throw new CfgError(
        'E_APP_EXISTS',
        `An app named "${names.app}" already exists: ${posix(relative(root, path))} is there.`,
        'Choose another name, or remove what is there first.',
      );
    }
  }
  const protos = existsSync(protoPath) ? await listProtoFiles(protoPath) : [];
  for (const file of protos) {
    const pkg = declaredPackages(await readFile(join(protoPath, file), 'utf8')).find((p) => packageClashes(names.app, p));
    if (pkg) {
      const where = posix(relative(root, join(protoPath, file)));
      throw new CfgError(
        'E_APP_NAME',
        `"${names.app}" clashes with package ${pkg}, declared in ${where}: the app's package would be ${names.protoPackage}.`,
        'Choose another name for the app.',
      );
    }
  }
}
