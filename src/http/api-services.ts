import type { ServiceHost } from '../services/host.ts';
import type { MethodKind } from '../call/method.ts';
import type { Route } from './router.ts';

export interface ServiceView {
  readonly name: string;
  readonly className: string;
  /** Health and reflection: served by cfg outside the interceptor chain. */
  readonly builtin: boolean;
  readonly methods: ReadonlyArray<{ name: string; path: string; kind: MethodKind; access: string; public: boolean }>;
}

/**
 * GET /api/services: what this server serves. Each method's `access` is what the auth interceptor
 * enforces ("public", "user", "staff", "crypto.delete_coin", "staff or crypto.add_coin", or
 * "undeclared": the class declares nothing and requireAuth is off, so anyone reaches the method,
 * whose body may still check the caller); `public` is true when a caller needs no token for it.
 */
export function servicesRoute(server: ServiceHost): Route {
  const services: ServiceView[] = server.services.map((s) => ({
    name: s.name,
    className: s.className,
    builtin: s.builtin,
    methods: s.methods.map((m) => ({
      name: m.name,
      path: m.path,
      kind: m.kind,
      access: s.builtin ? 'public' : m.access.label,
      public: s.builtin || !m.access.needsUser,
    })),
  }));
  return { method: 'GET', path: '/api/services', access: 'staff', handle: () => ({ json: { services } }) };
}

/** GET /api/me: who the credentials belong to (the dashboard shows it). */
export const meRoute: Route = {
  method: 'GET',
  path: '/api/me',
  access: 'staff',
  handle: (req) => ({
    json: { id: req.user!.id, username: req.user!.username, isStaff: req.user!.isStaff, isSuperuser: req.user!.isSuperuser },
  }),
};
