import { PUBLIC, type MethodAccess } from './access.ts';

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
  /** Who may call it (the class's declaration, resolved at registration; the auth interceptor enforces it). */
  readonly access: MethodAccess;
}

/** What the core reads of one method of a generated definition (a grpc-js MethodDefinition is one). */
export interface MethodShape {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

export function methodKind(def: Pick<MethodShape, 'requestStream' | 'responseStream'>): MethodKind {
  if (def.requestStream) return def.responseStream ? 'bidi' : 'clientStream';
  return def.responseStream ? 'serverStream' : 'unary';
}

export function methodInfo(key: string, def: MethodShape, access: MethodAccess = PUBLIC): MethodInfo {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(def.path);
  if (!match) throw new Error(`method ${key} has a malformed path ${JSON.stringify(def.path)}`);
  return { path: def.path, service: match[1]!, name: match[2]!, key, kind: methodKind(def), access };
}
