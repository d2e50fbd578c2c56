/** The authenticated caller, as BaseService helpers see it (loaded once per call, cached briefly). */
export interface AuthUser {
  readonly id: number;
  readonly username: string;
  readonly email: string;
  readonly isActive: boolean;
  readonly isStaff: boolean;
  readonly isSuperuser: boolean;
  /** "app.codename" permissions, granted directly or through groups. */
  readonly permissions: ReadonlySet<string>;
}

/** How the caller proved who they are. */
export interface AuthInfo {
  readonly kind: 'jwt' | 'apiKey';
  /** Verified JWT claims (kind "jwt"). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** API key id (kind "apiKey"). */
  readonly keyId?: number;
}
