// Three `cfg rungrpc` servers (separate processes) on one PostgreSQL, events through LISTEN/NOTIFY:
// WatchPrices across the servers (every update once, in order per coin; delivery latency),
// GetCoin's cache coherent across them (staleness measured over 1,000 trials), an API key revoked
// and a user deactivated reaching every server within the bound. Real servers, real database.
import { describeDeployment } from './support/deployment.ts';

describeDeployment('postgresql');
