// The main auth suite (test/fixtures/auth/suite.ts) on PostgreSQL, in a schema of its own.
import { authSuite } from './fixtures/auth/suite.ts';

authSuite('postgresql');
