import type { Db } from '../db/client.ts';
import { getLogger } from '../log/logger.ts';
import { GrpcError, Status } from '../call/error.ts';
import { classify } from '../call/boundary.ts';
import { invalidateUser } from './cache.ts';
import type { AuthUser } from './types.ts';

const log = getLogger('grpc.auth');

/**
 * Rethrows a failed call's error, unless the call ran for a user who no longer exists.
 *
 * An identity comes from the auth cache for up to userCacheTtlMs: a user deleted meanwhile by
 * another process or by SQL (which cannot reach this process's cache) still has calls running in
 * its name, and the method's writes then fail on the user's foreign key, or a read of the user
 * finds nothing; both would reach the client as INTERNAL. The auth layer vouched for the user, so
 * it is the layer that answers: when a call with a user fails with INTERNAL, one indexed read asks
 * whether the user still exists (on the failure path only: a call that succeeds pays nothing); if
 * not, the user's cache entries go and the call ends UNAUTHENTICATED, as its next call would.
 * Mapping every foreign-key violation to UNAUTHENTICATED at the error boundary instead would be
 * wrong both ways: a coin or wallet removed concurrently also violates a foreign key, and a
 * vanished user also shows as "record not found" or as a null where a row was expected.
 *
 * A method may find it first and answer UNAUTHENTICATED itself (the crypto ledger checks its caller
 * inside the batch that writes): the same read decides, so the client sees one message for one
 * cause, and the cache entries go whichever layer noticed.
 */
export async function failedCall(err: unknown, user: AuthUser, db: Db, message: string): Promise<never> {
  const code = classify(err).code;
  if (code !== Status.INTERNAL && code !== Status.UNAUTHENTICATED) throw err;
  let exists: boolean;
  try {
    exists = (await db.user.findUnique({ where: { id: user.id }, select: { id: true } })) !== null;
  } catch {
    throw err; // the database cannot tell: the original failure stands
  }
  if (exists) {
    if (code === Status.UNAUTHENTICATED) invalidateUser(user.id); // deactivated: the next call rereads the user
    throw err;
  }
  invalidateUser(user.id);
  log.info(`a call by user ${user.username} (id ${user.id}) failed after the user was deleted; answered UNAUTHENTICATED`, {
    error: err instanceof Error ? err.message.split('\n')[0] : String(err),
  });
  throw new GrpcError(Status.UNAUTHENTICATED, message, undefined, { cause: err });
}
