/** What `cfg rungrpc` was asked on its command line; the runtime folds host, port and processes into the config. */
export interface RunOptions {
  host?: string;
  port?: number;
  reload?: boolean;
  processes?: number | 'auto';
  allowUnmigrated?: boolean;
}

/** Set by a parent that manages this process (cluster primary, --reload supervisor): it owns Ctrl-C. */
export const MANAGED_ENV = 'CFG_MANAGED';
/** Set on cluster workers after the first: they print no banner and serve no HTTP side port. */
export const FOLLOWER_ENV = 'CFG_CLUSTER_FOLLOWER';
