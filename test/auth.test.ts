// JWT authentication on a real `cfg rungrpc` with real users in SQLite: every bad token, simplejwt
// tokens, refresh tokens refused, requireAuth, permissions through groups (test/fixtures/auth/suite.ts).
import { authSuite } from './fixtures/auth/suite.ts';

authSuite('sqlite');
