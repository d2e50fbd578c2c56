/**
 * Command-line and start-up failures. Each has a stable code (E_...) so scripts and tests can
 * match on it, and a message that says what is wrong and what to do next.
 * gRPC call failures are not here: they are `GrpcError` (src/call/error.ts).
 */

/** One row of the table: what a code means, what to do when the thrower knows nothing better, how cfg exits. */
export interface ErrorCodeInfo {
  /** One line: what went wrong (docs/troubleshooting.md says the same). */
  readonly meaning: string;
  /** The hint when the place that throws gives none; null where its message already says what to do. */
  readonly hint: string | null;
  /** The exit code of a `cfg` command that ends with this error. */
  readonly exitCode: number;
  /** The message, from what the thrower knows (codes whose every message has one shape): `CfgError.of(code, params)`. */
  readonly message?: (params: never) => string;
}

/** Every CfgError code, in one place: test/errors.test.ts checks that src/ uses each and no other. */
export const ERROR_CODES = {
  // Configuration.
  E_CONFIG_NOT_FOUND: {
    meaning: 'no cfg.config.ts in the folder or any folder above it',
    hint: 'Run cfg from your project, or create cfg.config.ts.',
    exitCode: 1,
  },
  E_CONFIG_INVALID: {
    meaning: 'a setting (in cfg.config.ts or the environment) has a value cfg cannot use',
    hint: 'Fix the setting named in the message.',
    exitCode: 1,
  },
  E_CONFIG_LOAD: {
    meaning: 'cfg.config.ts failed to load (a syntax error, a failing import)',
    hint: 'Fix the error shown in cfg.config.ts.',
    exitCode: 1,
  },
  E_TLS_FILE: {
    meaning: 'a certificate or key file named by grpc.server.tls cannot be read',
    hint: 'Point it at a readable PEM file.',
    exitCode: 1,
    message: (p: { field: string; path: string; reason: string }) => `grpc.server.tls.${p.field}: cannot read ${p.path}: ${p.reason}`,
  },
  E_GRPC_DISABLED: {
    meaning: 'rungrpc was asked to serve with grpc.enabled false',
    hint: 'Set grpc.enabled to true.',
    exitCode: 1,
    message: () => 'gRPC is disabled (grpc.enabled is false in cfg.config.ts).',
  },
  // Discovery and registration.
  E_APP_NOT_FOUND: {
    meaning: 'an app in grpc.enabledApps has no folder apps/<label>/',
    hint: 'Create the app folder, or remove the label from grpc.enabledApps.',
    exitCode: 1,
  },
  E_NO_SERVICE_MODULE: {
    meaning: 'an app (or a customServices / handlersHook path) has no module to import',
    hint: 'Create apps/<label>/grpc_services/index.ts exporting grpcHandlers.',
    exitCode: 1,
  },
  E_NO_HANDLERS_EXPORT: {
    meaning: 'a service module lacks the export cfg looks for (grpcHandlers, a class, a hook)',
    hint: 'Export it under the name cfg looks for.',
    exitCode: 1,
  },
  E_BAD_HANDLERS_RETURN: {
    meaning: 'grpcHandlers returned something other than [ServiceClass, addToServer] pairs',
    hint: 'Return [registration(Definition, ServiceClass)] pairs.',
    exitCode: 1,
  },
  E_DUPLICATE_SERVICE: {
    meaning: 'two registrations serve the same gRPC service',
    hint: 'Register each service once: check grpcHandlers, customServices and handlersHook.',
    exitCode: 1,
    message: (p: { service: string; className: string }) => `Service ${p.service} is registered twice (second time by ${p.className}).`,
  },
  E_MODULE_IMPORT: {
    meaning: 'a service module, or a service class constructor, failed',
    hint: 'Import inside grpcHandlers (an import cycle?), and keep constructors free of required parameters.',
    exitCode: 1,
  },
  E_STUBS_MISSING: { meaning: 'the generated stubs or descriptor set are missing', hint: 'Generate them: cfg generate-proto', exitCode: 1 },
  E_NO_SERVICES: {
    meaning: 'discovery found no service to serve',
    hint: 'Add your app label to grpc.enabledApps in cfg.config.ts, then run cfg check.',
    exitCode: 1,
  },
  E_ACCESS: { meaning: "a service class's declared access is not valid", hint: 'See docs/auth.md "Access per method".', exitCode: 1 },
  E_TYPECHECK: {
    meaning: 'a service method does not match its RPC in the .proto (cfg check)',
    hint: 'Fix the method: its name, request, response and kind must match the RPC.',
    exitCode: 1,
  },
  // Protos.
  E_PROTO_DIR: {
    meaning: 'the proto directory is missing, a file, or has no .proto files',
    hint: 'Put your .proto files in proto/, or pass --proto-dir DIR.',
    exitCode: 1,
  },
  E_PROTO_COMPILE: {
    meaning: 'a .proto does not compile',
    hint: 'Fix the .proto at the place shown; the stubs were left as they were.',
    exitCode: 1,
  },
  E_BUF: {
    meaning: 'buf is missing, failed, or refused its input',
    hint: 'Fix what buf names, then run it again (npm install restores buf).',
    exitCode: 1,
  },
  E_GIT: {
    meaning: 'cfg proto breaking cannot read the earlier protos from git',
    hint: 'Run it in a git clone, with --against a ref that exists.',
    exitCode: 1,
  },
  // startapp.
  E_APP_EXISTS: {
    meaning: 'cfg startapp would overwrite an app, proto or test',
    hint: 'Choose another name, or remove what is there first.',
    exitCode: 1,
  },
  E_APP_NAME: {
    meaning: 'cfg startapp was given a name it cannot use',
    hint: 'Choose another name: lower_snake_case, not a proto package cfg serves.',
    exitCode: 1,
  },
  // startproject.
  E_PROJECT_EXISTS: {
    meaning: 'cfg startproject would overwrite a file, or the folder already holds a cfg project',
    hint: 'Choose another folder, or move what is there first.',
    exitCode: 1,
  },
  // Serving.
  E_PORT_IN_USE: { meaning: 'another process holds the port', hint: null, exitCode: 1 },
  E_BIND: { meaning: 'the address cannot be bound (not one of this machine)', hint: 'Check the host and port settings.', exitCode: 1 },
  // Database.
  E_DB: {
    meaning: 'a database operation failed (locked, a failing seed, prisma generate)',
    hint: "Run again with CFG_DEBUG=1 for the driver's full error.",
    exitCode: 1,
  },
  E_DB_UNREACHABLE: {
    meaning: 'no database at the configured URL',
    hint: 'Start the database, or fix DATABASE_URL / database.url.',
    exitCode: 1,
  },
  E_DB_ACCESS: { meaning: 'the database refused the user or password', hint: 'Fix the user or password in the database URL.', exitCode: 1 },
  E_DB_NOT_MIGRATED: { meaning: 'the database has unapplied migrations (or does not exist yet)', hint: 'cfg migrate', exitCode: 1 },
  E_MIGRATION: {
    meaning: 'a migration failed (rolled back), or the schema cannot be diffed',
    hint: 'Fix the migration or schema named, then run the command again.',
    exitCode: 1,
  },
  // Users, keys and commands.
  E_PERMISSION_UNKNOWN: {
    meaning: 'createuser --perm names a permission that does not exist',
    hint: 'Use a known one, or add --create-perm.',
    exitCode: 1,
  },
  E_USER: { meaning: 'the user named does not exist or is inactive', hint: 'Create it: cfg createuser --username NAME', exitCode: 1 },
  E_NOT_FOUND: { meaning: 'what the command names (a file, service, method, key) is not there', hint: null, exitCode: 1 },
  E_USAGE: { meaning: 'an argument or option value is not valid', hint: null, exitCode: 1 },
  E_CLIENT_OPTIONS: { meaning: 'createClient was given options it cannot use', hint: 'See docs/client.md for the options.', exitCode: 1 },
  E_INTERNAL: { meaning: 'an unforeseen failure (a bug): the CLI saves its stack to a file', hint: null, exitCode: 1 },
} as const satisfies Record<`E_${string}`, ErrorCodeInfo>;

export type CfgErrorCode = keyof typeof ERROR_CODES;

/** The codes with a message template. */
export type TemplatedCode = {
  [C in CfgErrorCode]: (typeof ERROR_CODES)[C] extends { message: (params: never) => string } ? C : never;
}[CfgErrorCode];

/** What the message template of `C` takes. */
export type MessageParams<C extends TemplatedCode> = (typeof ERROR_CODES)[C] extends { message: (params: infer P) => string } ? P : never;

export interface CfgErrorOptions {
  cause?: unknown;
  /** Overrides the code's exit code (a worker that exited with its own code, say). */
  exitCode?: number;
}

export class CfgError extends Error {
  override readonly name = 'CfgError';
  /** What the user should do next; printed on its own line. Defaults to the code's hint. */
  readonly hint: string | undefined;
  /** How `cfg` exits when a command ends with this error: the code's, unless given. */
  readonly exitCode: number;

  constructor(
    readonly code: CfgErrorCode,
    message: string,
    hint?: string,
    options: CfgErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const info: ErrorCodeInfo = ERROR_CODES[code];
    this.hint = hint ?? info.hint ?? undefined;
    this.exitCode = options.exitCode ?? info.exitCode;
  }

  /** The error in its code's own words: `CfgError.of('E_TLS_FILE', { field, path, reason })`. */
  static of<C extends TemplatedCode>(code: C, params: MessageParams<C>, options: CfgErrorOptions & { hint?: string } = {}): CfgError {
    const template = ERROR_CODES[code].message as (params: MessageParams<C>) => string;
    return new CfgError(code, template(params), options.hint, options);
  }
}

export function isCfgError(err: unknown): err is CfgError {
  return err instanceof CfgError;
}
