import type { Db } from '../db/client.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../auth/api-keys.ts';
import { badRequest, HttpError, type Route } from './router.ts';

/** The body of POST /api/keys, checked field by field. */
interface CreateKeyBody {
  name: string;
  /** Owner; default the caller. */
  username?: string;
  /** ISO 8601, in the future. */
  expiresAt?: string | null;
}

function parseCreate(body: unknown): CreateKeyBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('The body must be a JSON object { "name": ..., "username"?: ..., "expiresAt"?: ... }.');
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !['name', 'username', 'expiresAt'].includes(k));
  if (extra.length) throw badRequest(`Unknown field "${extra[0]}"; a key takes "name", "username" and "expiresAt".`);
  if (typeof b.name !== 'string' || b.name.trim() === '' || b.name.length > 100)
    throw badRequest('name must be a non-empty string of at most 100 characters.');
  if (b.username !== undefined && (typeof b.username !== 'string' || b.username === ''))
    throw badRequest('username must be a non-empty string (the key owner).');
  if (b.expiresAt !== undefined && b.expiresAt !== null) {
    const t = typeof b.expiresAt === 'string' ? Date.parse(b.expiresAt) : NaN;
    if (Number.isNaN(t))
      throw badRequest(`expiresAt must be an ISO 8601 date-time such as "2030-01-01T00:00:00Z" (got ${JSON.stringify(b.expiresAt)}).`);
    if (t <= Date.now()) throw badRequest('expiresAt must be in the future.');
  }
  return b as unknown as CreateKeyBody;
}

/**
 * GET /api/keys, POST /api/keys (answers the key once), DELETE /api/keys/:id (revokes). The caller
 * is the actor: another user's keys are listed, made or revoked only as src/auth/acting-for.ts
 * allows (403 otherwise; the list leaves out what the caller may not manage).
 */
export function apiKeyRoutes(db: Db): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/keys',
      access: 'staff',
      async handle(req) {
        return { json: { keys: await listApiKeys(db, { actor: req.user! }) } };
      },
    },
    {
      method: 'POST',
      path: '/api/keys',
      access: 'staff',
      async handle(req) {
        const body = parseCreate(await req.json());
        let userId = req.user!.id;
        if (body.username !== undefined) {
          const owner = await db.user.findUnique({ where: { username: body.username }, select: { id: true } });
          if (!owner) throw badRequest(`No user named ${JSON.stringify(body.username)}.`);
          userId = owner.id;
        }
        const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
        const created = await createApiKey(db, { userId, name: body.name.trim(), expiresAt, actor: req.user! });
        return { status: 201, json: created };
      },
    },
    {
      method: 'DELETE',
      path: '/api/keys/:id',
      access: 'staff',
      async handle(req) {
        const raw = req.params.id!;
        if (!/^\d{1,9}$/.test(raw)) throw badRequest(`The key id must be a positive integer (got ${JSON.stringify(raw)}).`);
        const revoked = await revokeApiKey(db, Number(raw), { actor: req.user! });
        if (!revoked) throw new HttpError(404, 'not_found', `No API key with id ${raw}.`);
        return { json: { revoked: true, id: Number(raw) } };
      },
    },
  ];
}
