import type { Db } from '../db/client.ts';
import type { EventChannel } from '../events/channel.ts';
import { publishFor } from '../events/open.ts';
import { defineTopic } from '../events/topic.ts';
import { clearAuthCache, invalidateApiKey, invalidateUser } from './cache.ts';

/** What changed: a user (active, staff, superuser, permissions, groups), an API key (revoked), or everything. */
export interface AuthChange {
  userId?: number;
  apiKeyId?: number;
  all?: boolean;
}

/** cfg's own topic: auth caches of every process forget what changed. */
export const authChanged = defineTopic<AuthChange>('cfg.auth');

/**
 * Tells every process of the deployment that a user or key changed (after the change committed):
 * through the channel of a server on `db` in this process, or the database's own (a `cfg`
 * command). This process's caches are cleared at once by the caller (invalidateUser,
 * invalidateApiKey); the others' within the channel's delay.
 */
export async function announceAuthChange(db: Db, change: AuthChange): Promise<void> {
  await publishFor(db, authChanged, change);
}

/** Clears this process's auth caches of whatever another process announces; returns the unsubscribe. */
export function listenForAuthChanges(events: EventChannel): () => void {
  const off = events.on(authChanged, (change) => {
    if (change.all) clearAuthCache();
    if (typeof change.userId === 'number') invalidateUser(change.userId);
    if (typeof change.apiKeyId === 'number') invalidateApiKey(change.apiKeyId);
  });
  // Announcements missed while the channel was down: forget everything cached (it is reloaded).
  const offState = events.onState((s) => {
    if (s.resync) clearAuthCache();
  });
  return () => {
    off();
    offState();
  };
}
