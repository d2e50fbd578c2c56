// Three `cfg rungrpc` servers (separate processes) on one PostgreSQL, events through Redis pub/sub
// (the Redis server on 127.0.0.1:6379): WatchPrices across the servers (every update once, in order
// per coin; delivery latency), an API key revoked and a user deactivated reaching every server
// within the bound. Real servers, real Redis, real database.
import { describeDeployment } from './support/deployment.ts';

describeDeployment('redis');
