import type { CfgServer } from '../server/cfg-server.ts';
import type { MethodKind } from '../server/method.ts';
import type { Route } from './router.ts';

export interface ServiceView {
  readonly name: string;
  readonly className: string;
  /** Health and reflection: served by cfg outside the interceptor chain. */
  readonly builtin: boolean;
  readonly methods: ReadonlyArray<{ name: string; path: string; kind: MethodKind; public: boolean }>;
}

/**
 * GET /api/services: what this server serves. A method is public when a caller needs no token for
 * it: auth off, or a public method, or requireAuth off and the class not requiring a user (such a
 * method may still call requireUser itself, which the server cannot see in advance).
 */
export function servicesRoute(server: CfgServer): Route {
  const auth = server.config.grpc.auth;
  const services: ServiceView[] = server.services.map((s) => ({
    name: s.name,
    className: s.className,
    builtin: s.builtin,
    methods: s.methods.map((m) => ({
      name: m.name,
      path: m.path,
      kind: m.kind,
      public: s.builtin || !auth.enabled || (!m.requiresUser && (m.isPublic || !auth.requireAuth)),
    })),
  }));
  return { method: 'GET', path: '/api/services', access: 'staff', handle: () => ({ json: { services } }) };
}

/** GET /api/me: who the credentials belong to (the dashboard shows it). */
export const meRoute: Route = {
  method: 'GET',
  path: '/api/me',
  access: 'staff',
  handle: (req) => ({ json: { id: req.user!.id, username: req.user!.username, isStaff: req.user!.isStaff, isSuperuser: req.user!.isSuperuser } }),
};
