// The API key suite (test/fixtures/api-keys/suite.ts) on PostgreSQL, in a schema of its own.
import { apiKeySuite } from './fixtures/api-keys/suite.ts';

apiKeySuite('postgresql');
