import type { GrpcAuthConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import { PUBLIC, resolveAccess, SIGNED_IN, UNDECLARED, type MethodAccess } from '../call/access.ts';
import type { AccessDeclarations } from './registration.ts';
import type { ServiceDefinition } from './types.ts';

/** A service class as registration sees it: its name and access statics (checked here, as plain JS may set anything). */
export type AccessStatics = AccessDeclarations & { readonly name: string };

const fail = (message: string, hint: string) => new CfgError('E_ACCESS', message, hint);

/**
 * Each method's access, from the class's declarations, resolved once when the class is
 * registered: `static access` first, then `static publicMethods` (a shorthand for "public"), then
 * `grpc.auth.publicMethods` (full names); a method none of them names is "user" when the class
 * sets `requireAuth` or the config `requireAuth` is on, else "undeclared" (anyone reaches it, as
 * "public"; its body may check the caller itself). A declaration that names no
 * method of the service, is malformed, contradicts another, or opens a method of a requireAuth
 * class is a start-up error: access is never guessed.
 */
export function declaredAccess(cls: AccessStatics, definition: ServiceDefinition, auth: GrpcAuthConfig): Map<string, MethodAccess> {
  const declared: Readonly<Record<string, unknown>> = cls.access ?? {};
  const shorthand = new Set(cls.requireAuth ? [] : (cls.publicMethods ?? []));
  const configPublic = new Set(auth.publicMethods);
  for (const key of Object.keys(declared)) {
    if (!Object.hasOwn(definition, key))
      throw fail(
        `${cls.name}.access names "${key}", which is not a method of this service.`,
        `Use the method's key in the generated definition: ${Object.keys(definition).join(', ')}.`,
      );
  }
  const out = new Map<string, MethodAccess>();
  for (const [key, def] of Object.entries(definition)) {
    let access: MethodAccess;
    if (Object.hasOwn(declared, key)) {
      const resolved = resolveAccess(declared[key]);
      if (typeof resolved === 'string') throw fail(`${cls.name}.access.${key} ${resolved}.`, 'See docs/auth.md "Access per method".');
      if (resolved === PUBLIC && cls.requireAuth)
        throw fail(
          `${cls.name}.access.${key} is "public", but ${cls.name} requires authentication on every method (static requireAuth).`,
          'Move the method to a service without requireAuth, or declare "user".',
        );
      if (resolved !== PUBLIC && shorthand.has(key))
        throw fail(
          `${cls.name}.${key} is in publicMethods but its access is "${resolved.label}".`,
          'Declare it in one place: remove it from publicMethods.',
        );
      if (resolved !== PUBLIC && configPublic.has(def.path)) {
        throw new CfgError(
          'E_CONFIG_INVALID',
          `grpc.auth.publicMethods lists ${def.path}, but ${cls.name} declares its access "${resolved.label}".`,
          `Remove ${def.path} from grpc.auth.publicMethods, or change ${cls.name}.access.`,
        );
      }
      access = resolved;
    } else if (!cls.requireAuth && (shorthand.has(key) || configPublic.has(def.path))) {
      access = PUBLIC;
    } else {
      access = cls.requireAuth || auth.requireAuth ? SIGNED_IN : UNDECLARED;
    }
    out.set(key, access);
  }
  return out;
}
