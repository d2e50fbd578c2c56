import { CfgError } from '../../errors.ts';

/** The RPC kinds `cfg startapp --rpc` writes, one RPC each. */
export const RPC_KINDS = ['unary', 'server-stream', 'client-stream', 'bidi'] as const;
export type RpcKind = (typeof RPC_KINDS)[number];

/** One RPC of the new app, with every name the proto, the stubs and the class give it. */
export interface RpcNames {
  kind: RpcKind;
  /** In the proto: "Get". */
  rpc: string;
  /** The method key of the generated definition and of the class: "get". */
  method: string;
  request: string;
  response: string;
  /** What the kind means, for comments: "one request, one response". */
  shape: string;
}

/** Every name `cfg startapp NAME` derives from NAME. */
export interface AppNames {
  /** The app label (folder under apps/, entry of grpc.enabledApps): "notes". */
  app: string;
  /** The proto package: "notes.v1" (buf's PACKAGE_VERSION_SUFFIX). */
  protoPackage: string;
  /** The proto service and the TypeScript class: "NotesService". */
  service: string;
  /** The generated definition ts-proto exports: "NotesServiceService". */
  definition: string;
  /** The service class's file: "notes_service.ts". */
  serviceFile: string;
  rpcs: RpcNames[];
}

const RPCS: Record<RpcKind, Omit<RpcNames, 'kind' | 'method' | 'request' | 'response'>> = {
  unary: { rpc: 'Get', shape: 'one request, one response (unary)' },
  'server-stream': { rpc: 'Watch', shape: 'one request, a stream of responses (server streaming)' },
  'client-stream': { rpc: 'Upload', shape: 'a stream of requests, one response (client streaming)' },
  bidi: { rpc: 'Chat', shape: 'streams both ways (bidirectional streaming)' },
};

/** Proto packages cfg serves itself or imports: an app may not take their first component. */
export const RESERVED_PACKAGES = ['google', 'grpc'] as const;

/** lower_snake_case: a letter, then letters and digits, single underscores between words. */
const APP_NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const MAX_LENGTH = 40;

/** Checks NAME (E_APP_NAME) and derives every name from it; `kinds` in order, each once. */
export function appNames(app: string, kinds: readonly RpcKind[]): AppNames {
  if (!APP_NAME.test(app) || app.length > MAX_LENGTH) {
    throw new CfgError(
      'E_APP_NAME',
      `"${app}" is not a valid app name: it names a folder, a proto package and a TypeScript class.`,
      `Use lower_snake_case: a letter, then letters, digits and single underscores, at most ${MAX_LENGTH} characters (notes, order_items).`,
    );
  }
  if ((RESERVED_PACKAGES as readonly string[]).includes(app)) {
    throw new CfgError(
      'E_APP_NAME',
      `"${app}" clashes with the proto packages ${app}.* that cfg serves or imports.`,
      'Choose another name for the app.',
    );
  }
  const pascal = app
    .split('_')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
  const service = `${pascal}Service`;
  const rpcs = [...new Set(kinds.length > 0 ? kinds : (['unary'] as const))].map((kind) => {
    const { rpc, shape } = RPCS[kind];
    return { kind, rpc, shape, method: rpc[0]!.toLowerCase() + rpc.slice(1), request: `${rpc}Request`, response: `${rpc}Response` };
  });
  return { app, protoPackage: `${app}.v1`, service, definition: `${service}Service`, serviceFile: `${app}_service.ts`, rpcs };
}

/** The `package x.y;` declarations of a .proto file's text (comments and strings ignored). */
export function declaredPackages(protoText: string): string[] {
  const code = protoText.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, ' ');
  return [...code.matchAll(/\bpackage\s+([A-Za-z_][\w.]*)\s*;/g)].map((m) => m[1]!);
}

/** True when `pkg` is the app's package or one under it (notes, notes.v1, notes.admin.v2). */
export function packageClashes(app: string, pkg: string): boolean {
  return pkg === app || pkg.startsWith(`${app}.`);
}
