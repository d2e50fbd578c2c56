// The request log suite (test/fixtures/ops/request-log-suite.ts) on PostgreSQL.
import { requestLogSuite } from './fixtures/ops/request-log-suite.ts';

requestLogSuite('postgresql');
