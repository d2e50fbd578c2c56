import type { AuthUser } from './types.ts';

interface Entry {
  user: AuthUser;
  claims: Record<string, unknown>;
  until: number;
}

const MAX = 10_000;
const byToken = new Map<string, Entry>();

/**
 * Verified token -> user, for min(userCacheTtlMs, the token's lifetime): a repeated token costs no
 * signature check and no query. Bounded (oldest dropped first). `invalidateUser` and
 * `clearAuthCache` revoke at once (user changes made through cfg call them).
 */
export const authCache = {
  get(token: string, now: number): Entry | undefined {
    const e = byToken.get(token);
    if (e && e.until > now) return e;
    if (e) byToken.delete(token);
    return undefined;
  },
  set(token: string, entry: Entry): void {
    if (byToken.size >= MAX) byToken.delete(byToken.keys().next().value!);
    byToken.set(token, entry);
  },
};

export function invalidateUser(userId: number): void {
  for (const [token, e] of byToken) if (e.user.id === userId) byToken.delete(token);
}

export function clearAuthCache(): void {
  byToken.clear();
}
