// GetCoin on PostgreSQL, where the app keeps no coin cache: writes from another connection are
// seen by the next call all the same, and GetCoin's raw query answers what findUnique would.
import { describeCoinCache } from './support/coin-cache-suite.ts';

describeCoinCache('postgresql');
