import { status as Status } from '@grpc/grpc-js';
import { CfgError } from '../errors.ts';

/** How a client retries: grpc-js's own retry policy (gRFC A6), written into the channel's service config. */
export interface RetryOptions {
  /**
   * Method keys (`getCoin`) or full paths (`/crypto.CryptoService/GetCoin`) the caller declares
   * safe to send twice, on top of those the proto marks (`option idempotency_level`). Mark a
   * method with side effects only when the server dedups it (an idempotency key, say).
   */
  methods?: readonly string[];
  /** Attempts in all, the first included: 2 to 5 (grpc-js's limit). Default 4; 1 turns retries off. */
  maxAttempts?: number;
  /** The first back-off, in ms, before ±20 % jitter; then multiplied by `backoffMultiplier` up to `maxBackoffMs`. Default 100. */
  initialBackoffMs?: number;
  /** Default 2000. */
  maxBackoffMs?: number;
  /** Default 2. */
  backoffMultiplier?: number;
  /** Also retry RESOURCE_EXHAUSTED (a server shedding load). Default false: UNAVAILABLE only. */
  onResourceExhausted?: boolean;
  /**
   * The retry budget (gRFC A6 throttling): a channel starts with `maxTokens`, loses 1 per failed
   * attempt and gains `tokenRatio` per success; retries stop while it is at or below half.
   * Default { maxTokens: 10, tokenRatio: 0.1 }.
   */
  budget?: { maxTokens: number; tokenRatio: number };
}

/** A method as the service config names it: its service and method from the path `/pkg.Service/Method`. */
export interface MethodName {
  service: string;
  method: string;
}

export function methodNameOf(path: string): MethodName {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (!m) throw new CfgError('E_CLIENT_OPTIONS', `"${path}" is not a method path (/package.Service/Method)`);
  return { service: m[1]!, method: m[2]! };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;

function checkNumber(field: string, value: number, min: number, max = Infinity, integer = false): number {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new CfgError(
      'E_CLIENT_OPTIONS',
      `retry.${field}: ${value} is not ${integer ? 'an integer' : 'a number'} from ${min}${max === Infinity ? ' up' : ` to ${max}`}`,
    );
  }
  return value;
}

/**
 * The grpc-js service config for a client: round robin over every address the target resolves
 * to, and a retry policy for the retryable methods (none: no methodConfig, so nothing is ever
 * retried beyond grpc-js's transparent retry of a call that never reached a server).
 */
export function serviceConfigFor(retryable: readonly string[], retry: RetryOptions = {}): Record<string, unknown> {
  const config: Record<string, unknown> = { loadBalancingConfig: [{ round_robin: {} }] };
  const maxAttempts = checkNumber('maxAttempts', retry.maxAttempts ?? 4, 1, 5, true);
  if (retryable.length === 0 || maxAttempts < 2) return config;
  const initial = checkNumber('initialBackoffMs', retry.initialBackoffMs ?? 100, 1);
  const max = checkNumber('maxBackoffMs', retry.maxBackoffMs ?? 2000, initial);
  const multiplier = checkNumber('backoffMultiplier', retry.backoffMultiplier ?? 2, 1);
  const budget = retry.budget ?? { maxTokens: 10, tokenRatio: 0.1 };
  checkNumber('budget.maxTokens', budget.maxTokens, 1, 1000);
  checkNumber('budget.tokenRatio', budget.tokenRatio, 0.001);
  config.methodConfig = [
    {
      name: retryable.map(methodNameOf),
      retryPolicy: {
        maxAttempts,
        initialBackoff: seconds(initial),
        maxBackoff: seconds(max),
        backoffMultiplier: multiplier,
        retryableStatusCodes: retry.onResourceExhausted ? [Status.UNAVAILABLE, Status.RESOURCE_EXHAUSTED] : [Status.UNAVAILABLE],
      },
    },
  ];
  config.retryThrottling = budget;
  return config;
}

/**
 * The grpc-js target for one address or several: several are joined into one `ipv4:` or `ipv6:`
 * target (grpc-js resolves it to every address, and round robin spreads calls over them). One
 * address is passed as is (a DNS name that resolves to several addresses is balanced the same way).
 */
export function targetOf(address: string | readonly string[]): string {
  const list = typeof address === 'string' ? [address] : [...address];
  if (list.length === 0) throw new CfgError('E_CLIENT_OPTIONS', 'address: give at least one host:port');
  if (list.length === 1) return list[0]!;
  const v4 = /^\d{1,3}(\.\d{1,3}){3}:\d+$/;
  const v6 = /^\[[0-9a-fA-F:.]+\]:\d+$/;
  if (list.every((a) => v4.test(a))) return `ipv4:${list.join(',')}`;
  if (list.every((a) => v6.test(a))) return `ipv6:${list.join(',')}`;
  const bad = list.find((a) => !v4.test(a)) ?? list[0];
  throw new CfgError(
    'E_CLIENT_OPTIONS',
    `address: "${bad}" — several addresses must all be IPv4 (127.0.0.1:50051) or all IPv6 ([::1]:50051)`,
    'For host names, give one DNS name that resolves to every server: round robin spreads calls over its addresses',
  );
}
