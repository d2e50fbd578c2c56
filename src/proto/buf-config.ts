import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** The project's buf configuration, beside cfg.config.ts. `npx buf lint` reads it too. */
export const BUF_CONFIG_FILE = 'buf.yaml';

/**
 * cfg's lint rules when the project has no buf.yaml: buf's STANDARD set except its two layout
 * rules (a directory per package), because cfg's layout is one file per app side by side,
 * proto/NAME.proto with package NAME.v1, whose path names its stubs (generated/NAME.ts).
 * docs/commands.md "Proto rules" says why.
 */
export const DEFAULT_LINT = { use: ['STANDARD'], except: ['PACKAGE_DIRECTORY_MATCH', 'DIRECTORY_SAME_PACKAGE'] } as const;

/**
 * cfg's breaking-change rules when the project has no buf.yaml: what breaks a deployed client.
 * WIRE_JSON (the binary encoding and the JSON mapping: field numbers, types, names, enum values),
 * plus what WIRE_JSON leaves out though clients call it: a removed RPC, service or package.
 * Not FILE or PACKAGE: moving a message between files, or renaming a type, breaks no client.
 */
export const DEFAULT_BREAKING = { use: ['WIRE_JSON', 'RPC_NO_DELETE', 'PACKAGE_SERVICE_NO_DELETE', 'PACKAGE_NO_DELETE'] } as const;

/** Where and how to run buf over a project's protos. */
export interface BufTarget {
  /** buf's working directory: the project root (where buf.yaml is), or the proto dir. */
  cwd: string;
  /** The proto dir as buf's input, relative to `cwd` ("proto", or "." ). */
  input: string;
  /** `--config <json>` when the project has no buf.yaml (cfg's default rules), else nothing. */
  configArgs: string[];
  /** Names the rule set in messages: "buf.yaml" or "cfg's default rules". */
  rules: string;
}

const inside = (dir: string, path: string) => {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/**
 * How to run buf over `protoDir` in the project at `root`: from the root with the project's
 * buf.yaml when there is one (its `modules` must list the proto dir), otherwise with cfg's
 * default rules passed as `--config`.
 */
export function bufTarget(root: string, protoDir: string): BufTarget {
  const proto = resolve(root, protoDir);
  const within = inside(root, proto);
  const cwd = within ? root : proto;
  const input = within ? relative(root, proto).split(sep).join('/') || '.' : '.';
  if (within && existsSync(join(root, BUF_CONFIG_FILE))) return { cwd, input, configArgs: [], rules: BUF_CONFIG_FILE };
  const config = { version: 'v2', modules: [{ path: input }], lint: DEFAULT_LINT, breaking: DEFAULT_BREAKING };
  return { cwd, input, configArgs: ['--config', JSON.stringify(config)], rules: "cfg's default rules" };
}
