import { userOf } from '../auth/caller.ts';
import type { AuthUser } from '../auth/types.ts';
import { getLogger, type Logger } from '../log/logger.ts';
import type { Access } from '../call/access.ts';
import type { CallContext } from '../call/context.ts';
import { GrpcError, Status } from '../call/error.ts';
import type { Db } from '../db/client.ts';
import type { EventChannel } from '../events/channel.ts';

/** Set by discovery: the logger name for an app's services ("apps.crypto.grpc_services"). */
export const LOGGER_NAME = Symbol('cfg.loggerName');
/** Where a service keeps its database handle (`this.db`). */
const DATABASE = Symbol('cfg.database');
/** Where a service keeps its event channel (`this.events`). */
const EVENTS = Symbol('cfg.events');

/**
 * The base of every cfg service class: the guide's BaseService helpers, each taking the call
 * context. The `abort*` helpers throw a GrpcError and never return, so the compiler knows
 * that code after them is unreachable.
 *
 *     class CryptoService extends BaseService implements ServiceImplementation<typeof CryptoServiceService> {
 *       static override access: AccessOf<typeof CryptoServiceService> = { getCoin: 'public', deleteCoin: { permission: 'crypto.delete_coin' }, ... };
 *       async getCoin(request: GetCoinRequest, ctx: CallContext): Promise<CoinResponse> { ... }
 *     }
 */
export abstract class BaseService {
  /**
   * Who may call each method (by its key in the generated definition, "getCoin"): "public",
   * "user", "staff", { permission: "app.codename" } or { permission, orStaff: true }. Resolved when
   * the service is registered and enforced by the auth interceptor before the method runs, so a
   * method body cannot forget it (docs/auth.md "Access per method"). Type it
   * `AccessOf<typeof XService>` so the compiler asks for every method.
   */
  static access?: Readonly<Record<string, Access>>;
  /**
   * Shorthand for `access: { key: 'public' }`: methods that need no token when auth.requireAuth
   * is on. A token that is sent is still verified.
   */
  static publicMethods?: readonly string[];
  /** Every method needs an authenticated user, whatever auth.requireAuth says. */
  static requireAuth?: boolean;

  [LOGGER_NAME]?: string;
  [DATABASE]: Db | undefined;
  [EVENTS]: EventChannel | undefined;

  /**
   * `db`: the database this service uses. Usually left out: the server gives every service it
   * registers its own handle (the one it opened at start) before any call. Pass one to serve
   * another database (from a handlersHook: `new Reports(reportsDb)`), or in a test that calls
   * methods directly.
   */
  constructor(db?: Db) {
    this[DATABASE] = db;
  }

  /**
   * The database (Prisma client, `db.provider` says which one): the server's handle, set when the
   * service is registered, or the one given to the constructor. Throws when there is none (a
   * service used before any server registered it).
   */
  protected get db(): Db {
    const db = this[DATABASE];
    if (db === undefined)
      throw new Error(
        `${this.constructor.name}.db: no database yet; the server sets it when it registers the service (or pass one: new ${this.constructor.name}(db))`,
      );
    return db;
  }

  /**
   * The event channel between every process of the deployment (docs/events.md): publish to all
   * of them, subscribe to what any of them publishes, typed per topic (defineTopic). The server
   * gives every service it registers its own. Throws when there is none (a service used outside a
   * server; see `hasEvents`).
   *
   *     await this.events.publish(priceChanged, { symbol, price });
   *     for await (const p of this.events.subscribe(priceChanged, ctx.signal)) yield p;
   */
  protected get events(): EventChannel {
    const events = this[EVENTS];
    if (events === undefined)
      throw new Error(`${this.constructor.name}.events: no event channel; the server sets it when it registers the service`);
    return events;
  }

  /** Whether a server gave this service an event channel (a service constructed by hand has none). */
  protected get hasEvents(): boolean {
    return this[EVENTS] !== undefined;
  }

  /** This app's logger ("apps.<label>.grpc_services"), configurable in cfg.config.ts logging.levels. */
  protected get log(): Logger {
    return getLogger(this[LOGGER_NAME] ?? `apps.${this.constructor.name}`);
  }

  // --- Authentication -------------------------------------------------------------------

  /**
   * The authenticated user, or null for an anonymous caller. An inactive user is not
   * authenticated (as in Django): null here too, should an interceptor have set one. The user is
   * the auth interceptor's per-call value (src/auth/caller.ts: CALLER, userOf).
   */
  getUser(ctx: CallContext): AuthUser | null {
    const user = userOf(ctx);
    return user?.isActive ? user : null;
  }

  /** The authenticated user; ends the call with UNAUTHENTICATED when there is none (or it is inactive). */
  requireUser(ctx: CallContext): AuthUser {
    const user = userOf(ctx);
    if (user === null) this.abortUnauthenticated(ctx, 'Authentication required');
    if (!user.isActive) this.abortUnauthenticated(ctx, 'User account is disabled');
    return user;
  }

  /** True when the caller is an active staff user (superusers count as staff). */
  checkStaff(ctx: CallContext): boolean {
    const user = userOf(ctx);
    return !!user && user.isActive && (user.isStaff || user.isSuperuser);
  }

  /** Ends the call with UNAUTHENTICATED (no user) or PERMISSION_DENIED (not staff). */
  requireStaff(ctx: CallContext): AuthUser {
    const user = this.requireUser(ctx);
    if (!this.checkStaff(ctx)) this.abortPermissionDenied(ctx, 'Staff access required');
    return user;
  }

  /** True when the caller is an active superuser. */
  checkSuperuser(ctx: CallContext): boolean {
    const user = userOf(ctx);
    return !!user && user.isActive && user.isSuperuser;
  }

  /** Ends the call with UNAUTHENTICATED (no user) or PERMISSION_DENIED (not a superuser). */
  requireSuperuser(ctx: CallContext): AuthUser {
    const user = this.requireUser(ctx);
    if (!this.checkSuperuser(ctx)) this.abortPermissionDenied(ctx, 'Superuser access required');
    return user;
  }

  // --- Permissions ----------------------------------------------------------------------

  /** True when the caller has "app.codename", directly, through a group, or as a superuser. */
  checkPermission(ctx: CallContext, permission: string): boolean {
    const user = userOf(ctx);
    if (!user?.isActive) return false;
    return user.isSuperuser || user.permissions.has(permission);
  }

  /** Ends the call with UNAUTHENTICATED (no user) or PERMISSION_DENIED "Permission <p> required". */
  requirePermission(ctx: CallContext, permission: string): AuthUser {
    const user = this.requireUser(ctx);
    if (!this.checkPermission(ctx, permission)) this.abortPermissionDenied(ctx, `Permission ${permission} required`);
    return user;
  }

  // --- Errors ---------------------------------------------------------------------------

  /** Ends the call with any status code (the abort* helpers below are this with their code). */
  abort(_ctx: CallContext, code: Status, message: string): never {
    throw new GrpcError(code, message);
  }
  abortInvalidArgument(ctx: CallContext, message: string): never {
    this.abort(ctx, Status.INVALID_ARGUMENT, message);
  }
  abortNotFound(ctx: CallContext, message: string): never {
    this.abort(ctx, Status.NOT_FOUND, message);
  }
  abortPermissionDenied(ctx: CallContext, message: string): never {
    this.abort(ctx, Status.PERMISSION_DENIED, message);
  }
  abortUnauthenticated(ctx: CallContext, message: string): never {
    this.abort(ctx, Status.UNAUTHENTICATED, message);
  }
  abortUnimplemented(ctx: CallContext, message: string): never {
    this.abort(ctx, Status.UNIMPLEMENTED, message);
  }
  abortInternal(ctx: CallContext, message: string): never {
    this.abort(ctx, Status.INTERNAL, message);
  }

  // --- Metadata -------------------------------------------------------------------------

  /** The first value of a request metadata key ("user-agent"), or undefined. Binary (-bin) values come back base64. */
  getMetadata(ctx: CallContext, key: string): string | undefined {
    const value = ctx.metadata.get(key)[0];
    if (value === undefined) return undefined;
    return typeof value === 'string' ? value : value.toString('base64');
  }

  /**
   * Adds a response metadata entry. It travels as a response header when set before the first
   * message is sent (so clients see it before the body), and as a trailer after that. Setting
   * a key twice sends both values.
   */
  setMetadata(ctx: CallContext, key: string, value: string | Buffer): void {
    ctx.addResponseMetadata(key, value);
  }

  /** The caller's address: "ipv4:127.0.0.1:12345" or "ipv6:[::1]:12345". */
  getPeer(ctx: CallContext): string {
    return ctx.peer;
  }
}

/** Gives a service the server's database at registration, unless it has one already. */
export function provideDatabase(service: object, db: Db): void {
  if (service instanceof BaseService && service[DATABASE] === undefined) service[DATABASE] = db;
}

/** Gives a service the server's event channel at registration, unless it has one already. */
export function provideEvents(service: object, events: EventChannel): void {
  if (service instanceof BaseService && service[EVENTS] === undefined) service[EVENTS] = events;
}
