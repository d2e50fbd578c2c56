// GetCoin's read cache on SQLite: every commit, by the server itself or by another process writing
// the same file, is seen by the next call (suite in support/coin-cache-suite.ts; PostgreSQL in
// coin-cache-postgresql.test.ts, cluster workers in coin-cache-cluster.test.ts).
import { describeCoinCache } from './support/coin-cache-suite.ts';

describeCoinCache('sqlite');
