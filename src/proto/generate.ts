import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { CfgError } from '../errors.ts';
import { bufBinary, DESCRIPTOR_SET, MANIFEST, TS_PROTO_OPTIONS, tsProtoPlugin } from './tools.ts';

export interface GenerateOptions {
  /** Folder holding the .proto files (absolute, or relative to `cwd`). */
  protoDir: string;
  /** Folder receiving the stubs and the descriptor set. */
  outputDir: string;
  cwd?: string;
}

export interface GenerateResult {
  protoFiles: string[];
  written: string[];
  ms: number;
}

/** Every .proto file under `dir`, relative to it, sorted. */
export async function listProtoFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.proto')) out.push(relative(dir, path));
    }
  };
  await walk(dir);
  return out.sort();
}

function run(cmd: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr) }));
      else resolvePromise();
    });
  });
}

/**
 * Runs buf with ts-proto over every .proto in `protoDir` and writes typed messages, grpc-js
 * service definitions and a FileDescriptorSet into `outputDir`. Everything is generated into a
 * temporary folder first: a proto with an error leaves `outputDir` untouched.
 */
export async function generateProto(options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const protoDir = resolve(cwd, options.protoDir);
  const outputDir = resolve(cwd, options.outputDir);
  const shownDir = relative(cwd, protoDir) || '.';

  let files: string[];
  try {
    if (!(await stat(protoDir)).isDirectory()) throw new Error('not a directory');
    files = await listProtoFiles(protoDir);
  } catch {
    throw new CfgError('E_PROTO_DIR', `Proto directory ${shownDir} does not exist.`, 'Create it and put your .proto files there, or pass --proto-dir DIR.');
  }
  if (files.length === 0) {
    throw new CfgError('E_PROTO_DIR', `Proto directory ${shownDir} has no .proto files.`, 'Add a .proto file, or pass --proto-dir DIR.');
  }

  const staging = await mkdtemp(join(tmpdir(), 'cfg-proto-'));
  try {
    const template = JSON.stringify({
      version: 'v2',
      plugins: [{ local: tsProtoPlugin(), out: staging, opt: [...TS_PROTO_OPTIONS] }],
    });
    try {
      // buf reports paths relative to its working directory, so errors read "proto/x.proto:3:5: ...".
      await run(bufBinary(), ['generate', relative(cwd, protoDir) || '.', '--template', template], cwd);
      await run(bufBinary(), ['build', relative(cwd, protoDir) || '.', '--as-file-descriptor-set', '--exclude-source-info', '-o', join(staging, DESCRIPTOR_SET)], cwd);
    } catch (err) {
      const stderr = ((err as { stderr?: string }).stderr ?? '').trim();
      throw new CfgError('E_PROTO_COMPILE', `buf failed on ${shownDir}:\n${stderr || (err as Error).message}`, 'Fix the .proto file at the line shown; nothing was written.', { cause: err });
    }

    const written = (await listFiles(staging)).sort();
    await mkdir(outputDir, { recursive: true });
    // Remove what the previous run wrote (and only that: generated/ also holds the Prisma client).
    for (const old of await readManifest(outputDir)) {
      if (!written.includes(old)) await rm(join(outputDir, old), { force: true });
    }
    for (const file of written) {
      await mkdir(dirname(join(outputDir, file)), { recursive: true });
      await cp(join(staging, file), join(outputDir, file));
    }
    await writeFile(join(outputDir, MANIFEST), JSON.stringify({ protoDir: shownDir, files: written }, null, 2) + '\n');
    return { protoFiles: files, written, ms: Math.round(performance.now() - started) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path, base)));
    else out.push(relative(base, path));
  }
  return out;
}

async function readManifest(outputDir: string): Promise<string[]> {
  try {
    const parsed = JSON.parse(await readFile(join(outputDir, MANIFEST), 'utf8')) as { files?: unknown };
    return Array.isArray(parsed.files) ? parsed.files.filter((f): f is string => typeof f === 'string') : [];
  } catch {
    return [];
  }
}

/** True when stubs are missing or older than any .proto file (rungrpc's auto-generation check). */
export async function stubsAreStale(protoDir: string, outputDir: string): Promise<boolean> {
  let generatedAt: number;
  try {
    generatedAt = (await stat(join(outputDir, MANIFEST))).mtimeMs;
    await stat(join(outputDir, DESCRIPTOR_SET));
  } catch {
    return true;
  }
  for (const file of await listProtoFiles(protoDir).catch(() => [])) {
    if ((await stat(join(protoDir, file))).mtimeMs > generatedAt) return true;
  }
  return false;
}
