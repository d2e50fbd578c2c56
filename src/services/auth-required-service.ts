import type { AuthUser } from '../auth/types.ts';
import type { CallContext } from '../call/context.ts';
import { BaseService } from './base-service.ts';

/**
 * A service every method of which needs an authenticated user, whatever auth.requireAuth says:
 * a call without a valid token ends UNAUTHENTICATED in the auth interceptor, before the handler
 * runs. Its `publicMethods` are ignored. `cfg rungrpc` refuses to start such a service when
 * grpc.auth.enabled is false, rather than serve it to anyone.
 *
 *     class WalletService extends AuthRequiredService implements ServiceImplementation<typeof WalletServiceService> {
 *       async getBalance(req: BalanceRequest, ctx: CallContext) {
 *         const user = this.user(ctx); // never null here
 *         ...
 *       }
 *     }
 */
export abstract class AuthRequiredService extends BaseService {
  static override requireAuth = true;

  /** The caller (always set in this service's methods; ends the call UNAUTHENTICATED otherwise). */
  protected user(ctx: CallContext): AuthUser {
    return this.requireUser(ctx);
  }
}
