// The API key suite (test/fixtures/api-keys/suite.ts) on SQLite.
import { apiKeySuite } from './fixtures/api-keys/suite.ts';

apiKeySuite('sqlite');
