// The layers of src/, bottom first: the one place their order is written. A module may import
// its own folder and any folder below it, never one above (.dependency-cruiser.cjs turns this into
// rules; \`npm test\` runs them). ARCHITECTURE.md says what each layer holds.
const LAYERS = [
  ['errors.ts', 'log'], // what every layer may use: CfgError, the logger
  ['call'], // the call core: status, GrpcError, context, method, interceptor contract (no transport)
  ['config'], // cfg.config.ts: schema, defaults, environment
  ['db'], // the database handle, migrations, error mapping
  ['events'], // the event channel between the processes of a deployment (LISTEN/NOTIFY, Redis, SQLite's event table)
  ['auth'], // users, tokens, API keys, the auth interceptor's rules
  ['ops'], // request log, server registry, monitor
  ['proto'], // buf, ts-proto, descriptors
  ['services'], // BaseService, registration, built-in services (health, reflection)
  ['check'], // cfg check's probes
  ['discovery'], // finding apps' services and modules
  ['interceptors'], // the chain every call crosses
  ['client'], // the typed client toolkit
  ['transports'], // protocol adapters over the call core (grpc-js)
  ['http'], // the HTTP side port: dashboard, /metrics, /api
  ['server'], // the composition root: start, CfgServer
  ['runtime'], // process supervision: run, cluster, reload, signals
  ['commands'], // one file per management command
  ['testing'], // cfg-grpc/testing: a server on port 0 with given apps, typed clients, users and tokens
  ['cli.ts', 'index.ts', 'exports'], // entry points: the CLI, the public API (cfg-grpc) and its subpaths (cfg-grpc/server, cfg-grpc/db, ...)
];

module.exports = { LAYERS };
