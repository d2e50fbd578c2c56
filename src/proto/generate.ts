import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { CfgError } from '../errors.ts';
import { bufCommand, DESCRIPTOR_SET, ES_OPTIONS, ES_OUT, esPlugin, esVersion, MANIFEST, TS_PROTO_OPTIONS, tsProtoPlugin } from './tools.ts';

export interface GenerateOptions {
  /** Folder holding the .proto files (absolute, or relative to `cwd`). */
  protoDir: string;
  /** Folder receiving the stubs and the descriptor set (absolute, or relative to `cwd`). */
  outputDir: string;
  /** Base of relative paths, and of the paths in buf's messages. Default process.cwd(). */
  cwd?: string;
  /** Also emit ECMAScript messages and service descriptors for browsers (protoc-gen-es) into `<outputDir>/es/` (grpc.proto.es). */
  es?: boolean;
}

export interface GenerateResult {
  /** The .proto files compiled, relative to the proto dir, sorted. */
  protoFiles: string[];
  /** The files written, relative to the output dir, sorted (the manifest not included). */
  written: string[];
  ms: number;
}

/** What the manifest records: enough to tell whether the stubs are stale, and nothing machine-specific. */
interface Manifest {
  generator: string;
  protoDir: string;
  protoFiles: string[];
  files: string[];
}

/** Bound on one buf run; a healthy one takes well under a second. */
const BUF_TIMEOUT_MS = 120_000;

const tsProtoVersion = (createRequire(import.meta.url)('ts-proto/package.json') as { version: string }).version;
/** Changes when cfg's generator changes: stubs from another version or options (or targets) are stale. */
function generatorId(es: boolean): string {
  const ts = `ts-proto ${tsProtoVersion} ${TS_PROTO_OPTIONS.join(',')}`;
  return es ? `${ts}; protoc-gen-es ${esVersion()} ${ES_OPTIONS.join(',')}` : ts;
}

const posix = (path: string) => path.split(sep).join('/');

/** Every .proto file under `dir`, relative to it with "/" separators, sorted. */
export async function listProtoFiles(dir: string): Promise<string[]> {
  return (await listFiles(dir)).filter((f) => f.endsWith('.proto'));
}

/**
 * The .proto files of `protoDir` (as listProtoFiles), or E_PROTO_DIR naming it as `shown` when it
 * is missing, a file, or holds no .proto file.
 */
export async function requireProtoFiles(protoDir: string, shown: string): Promise<string[]> {
  let files: string[];
  try {
    if (!(await stat(protoDir)).isDirectory()) {
      throw new CfgError(
        'E_PROTO_DIR',
        `Proto directory ${shown} is a file, not a directory.`,
        'Pass the folder holding your .proto files: --proto-dir DIR.',
      );
    }
    files = await listProtoFiles(protoDir);
  } catch (err) {
    if (err instanceof CfgError) throw err;
    throw new CfgError(
      'E_PROTO_DIR',
      `Proto directory ${shown} does not exist.`,
      'Create it and put your .proto files there, or pass --proto-dir DIR.',
    );
  }
  if (files.length === 0) {
    throw new CfgError('E_PROTO_DIR', `Proto directory ${shown} has no .proto files.`, 'Add a .proto file there, or pass --proto-dir DIR.');
  }
  return files;
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path, base)));
    else out.push(posix(relative(base, path)));
  }
  return out.sort();
}

function buf(args: string[], cwd: string): Promise<void> {
  const { file, args: pre } = bufCommand();
  return new Promise((done, fail) => {
    execFile(file, [...pre, ...args], { cwd, maxBuffer: 16 * 1024 * 1024, timeout: BUF_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (err) fail(Object.assign(err, { stderr: String(stderr) }));
      else done();
    });
  });
}

/** The proto folder and its .proto files, checked (E_PROTO_DIR), with the paths buf's messages use. */
async function protoInput(
  options: GenerateOptions,
): Promise<{ cwd: string; protoDir: string; outputDir: string; input: string; shown: string; files: string[] }> {
  const cwd = options.cwd ?? process.cwd();
  const protoDir = resolve(cwd, options.protoDir);
  const outputDir = resolve(cwd, options.outputDir);
  // buf reports paths relative to its working directory, so errors read "proto/x.proto:3:5: ...".
  const input = relative(cwd, protoDir) || '.';
  const shown = input === '.' ? './' : `${posix(input)}/`;
  const files = await requireProtoFiles(protoDir, shown);
  return { cwd, protoDir, outputDir, input, shown, files };
}

/** A failed buf run as E_PROTO_COMPILE, with buf's own messages (file:line:column). */
function compileError(err: Error & { stderr?: string; killed?: boolean }, at: { cwd: string; shown: string; outputDir: string }): CfgError {
  const detail = (err.stderr ?? '').trim() || (err.killed ? `buf did not finish within ${BUF_TIMEOUT_MS / 1000} s` : err.message);
  return new CfgError(
    'E_PROTO_COMPILE',
    `buf could not compile ${at.shown}:\n${detail}`,
    `Fix the .proto at the place shown; ${posix(relative(at.cwd, at.outputDir)) || '.'}/ was left as it was.`,
    { cause: err },
  );
}

/**
 * Compiles every .proto in `protoDir` and writes nothing (`cfg check`): the same E_PROTO_DIR and
 * E_PROTO_COMPILE errors as generateProto, so check and rungrpc say the same thing.
 */
export async function compileProtos(options: GenerateOptions): Promise<{ protoFiles: string[] }> {
  const at = await protoInput(options);
  try {
    await buf(['build', at.input], at.cwd);
  } catch (err) {
    throw compileError(err as Error, at);
  }
  return { protoFiles: at.files };
}

/**
 * Runs buf with ts-proto over every .proto in `protoDir` and writes typed messages, grpc-js
 * service definitions (with their client types) and a FileDescriptorSet into `outputDir`; with
 * `es`, also protoc-gen-es's messages and service descriptors into `outputDir/es/`, for browsers
 * (@connectrpc/connect-web).
 * Everything is generated into a temporary folder first, so a proto with an error leaves
 * `outputDir` untouched; each file is then replaced atomically (write beside, rename), unchanged
 * files are not rewritten, and files a previous run wrote that are no longer produced are removed.
 */
export async function generateProto(options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const at = await protoInput(options);
  const { cwd, protoDir, outputDir, input, files } = at;

  const staging = await mkdtemp(join(tmpdir(), 'cfg-proto-'));
  try {
    const plugins: object[] = [{ local: tsProtoPlugin(), out: staging, opt: [...TS_PROTO_OPTIONS] }];
    if (options.es) plugins.push({ local: esPlugin(), out: join(staging, ES_OUT), opt: [...ES_OPTIONS] });
    const template = JSON.stringify({ version: 'v2', plugins });
    // Both compile the same files; run side by side. Imports (well-known types included) are
    // part of the descriptor set, so reflection can serve every type a service uses.
    const runs = await Promise.allSettled([
      buf(['generate', input, '--template', template], cwd),
      buf(['build', input, '--as-file-descriptor-set', '--exclude-source-info', '-o', join(staging, DESCRIPTOR_SET)], cwd),
    ]);
    const failed = runs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw compileError(failed.reason as Error, at);

    const written = await listFiles(staging);
    await mkdir(outputDir, { recursive: true });
    for (const file of written) await replaceFile(join(staging, file), join(outputDir, file));
    // Remove what the previous run wrote and this one did not (only that: the output dir may
    // hold other files, such as the Prisma client).
    const previous = await readManifest(outputDir);
    for (const old of previous?.files ?? []) {
      if (!written.includes(old)) await removeWithEmptyParents(outputDir, old);
    }
    const manifest: Manifest = {
      generator: generatorId(options.es ?? false),
      protoDir: posix(relative(outputDir, protoDir)),
      protoFiles: files,
      files: written,
    };
    const manifestPath = join(outputDir, MANIFEST);
    const temp = `${manifestPath}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(temp, manifestPath);
    return { protoFiles: files, written, ms: Math.round(performance.now() - started) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Puts `from` at `to` in one rename, unless `to` already holds the same bytes. */
async function replaceFile(from: string, to: string): Promise<void> {
  const next = await readFile(from);
  const current = await readFile(to).catch(() => null);
  if (current?.equals(next)) return;
  await mkdir(dirname(to), { recursive: true });
  const temp = `${to}.${process.pid}.tmp`;
  await copyFile(from, temp);
  await rename(temp, to);
}

async function removeWithEmptyParents(root: string, file: string): Promise<void> {
  await rm(join(root, file), { force: true });
  for (let dir = dirname(join(root, file)); dir.startsWith(root + sep); dir = dirname(dir)) {
    try {
      await rmdir(dir); // only succeeds when empty
    } catch {
      return;
    }
  }
}

async function readManifest(outputDir: string): Promise<Partial<Manifest> | null> {
  try {
    const parsed = JSON.parse(await readFile(join(outputDir, MANIFEST), 'utf8')) as Partial<Manifest>;
    const strings = (v: unknown) => (Array.isArray(v) ? v.filter((f): f is string => typeof f === 'string') : []);
    return { ...parsed, files: strings(parsed.files), protoFiles: strings(parsed.protoFiles) };
  } catch {
    return null;
  }
}

/**
 * True when the stubs need regenerating (rungrpc's auto-generation check): never generated, made
 * by another generator version, a .proto added or removed, or a .proto newer than the stubs.
 */
export async function stubsAreStale(protoDir: string, outputDir: string, es = false): Promise<boolean> {
  const manifest = await readManifest(outputDir);
  if (!manifest || manifest.generator !== generatorId(es)) return true;
  let generatedAt: number;
  try {
    generatedAt = (await stat(join(outputDir, MANIFEST))).mtimeMs;
    await stat(join(outputDir, DESCRIPTOR_SET));
  } catch {
    return true;
  }
  const protos = await listProtoFiles(protoDir).catch(() => []);
  if (protos.join('\n') !== (manifest.protoFiles ?? []).join('\n')) return true;
  for (const file of protos) {
    if ((await stat(join(protoDir, file))).mtimeMs > generatedAt) return true;
  }
  return false;
}
