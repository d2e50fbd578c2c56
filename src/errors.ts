/**
 * Command-line and start-up failures. Each has a stable code (E_...) so scripts and tests can
 * match on it, and a message that says what is wrong and what to do next.
 * gRPC call failures are not here: they are `GrpcError` (src/call/error.ts).
 */
export type CfgErrorCode =
  | 'E_CONFIG_NOT_FOUND'
  | 'E_CONFIG_INVALID'
  | 'E_CONFIG_LOAD'
  | 'E_GRPC_DISABLED'
  | 'E_APP_NOT_FOUND'
  | 'E_APP_NOT_ENABLED'
  | 'E_NO_SERVICE_MODULE'
  | 'E_NO_HANDLERS_EXPORT'
  | 'E_BAD_HANDLERS_RETURN'
  | 'E_MODULE_IMPORT'
  | 'E_STUBS_MISSING'
  | 'E_NO_SERVICES'
  | 'E_PROTO_DIR'
  | 'E_PROTO_COMPILE'
  | 'E_BUF'
  | 'E_GIT'
  | 'E_APP_EXISTS'
  | 'E_APP_NAME'
  | 'E_PORT_IN_USE'
  | 'E_BIND'
  | 'E_DB'
  | 'E_DB_UNREACHABLE'
  | 'E_DB_ACCESS'
  | 'E_DB_NOT_MIGRATED'
  | 'E_MIGRATION'
  | 'E_PERMISSION_UNKNOWN'
  | 'E_TYPECHECK'
  | 'E_USER'
  | 'E_NOT_FOUND'
  | 'E_ACCESS'
  | 'E_USAGE'
  | 'E_CLIENT_OPTIONS'
  | 'E_INTERNAL';

export class CfgError extends Error {
  override readonly name = 'CfgError';
  constructor(
    readonly code: CfgErrorCode,
    message: string,
    /** What the user should do next; printed on its own line. */
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isCfgError(err: unknown): err is CfgError {
  return err instanceof CfgError;
}
