import type { MethodDefinition } from '@grpc/grpc-js';

export type MethodKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

/** What cfg knows of one RPC, computed once at registration. */
export interface MethodInfo {
  /** "/crypto.CryptoService/GetCoin" */
  readonly path: string;
  /** "crypto.CryptoService" */
  readonly service: string;
  /** "GetCoin" (as in the .proto) */
  readonly name: string;
  /** "getCoin" (the key in the generated definition and the method name on the class) */
  readonly key: string;
  readonly kind: MethodKind;
  /** Needs no token even when auth.requireAuth is on. */
  readonly isPublic: boolean;
  /** A user is required whatever auth.requireAuth says (the class sets static requireAuth). */
  readonly requiresUser: boolean;
}

export function methodKind(def: Pick<MethodDefinition<unknown, unknown>, 'requestStream' | 'responseStream'>): MethodKind {
  if (def.requestStream) return def.responseStream ? 'bidi' : 'clientStream';
  return def.responseStream ? 'serverStream' : 'unary';
}

export function methodInfo(key: string, def: MethodDefinition<unknown, unknown>, isPublic: boolean, requiresUser = false): MethodInfo {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(def.path);
  if (!match) throw new Error(`method ${key} has a malformed path ${JSON.stringify(def.path)}`);
  return { path: def.path, service: match[1]!, name: match[2]!, key, kind: methodKind(def), isPublic, requiresUser };
}
