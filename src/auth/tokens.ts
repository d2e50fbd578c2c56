import { randomUUID } from 'node:crypto';
import { jsonwebtoken } from './jsonwebtoken.ts';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';
import { signKey } from './keys.ts';

/** "90s", "30m", "1h", "7d" -> seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new CfgError('E_USAGE', `Duration "${text}" is not valid.`, 'Use a number with s, m, h or d: 90s, 30m, 1h, 7d.');
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}

/** Refuses a lifetime `cfg token` may not issue: under 1 s, or over grpc.auth.maxTokenLifetimeSeconds (the server would refuse the token). */
export function assertTokenLifetime(config: CfgConfig, ttlSeconds: number): void {
  const max = config.grpc.auth.maxTokenLifetimeSeconds;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1)
    throw new CfgError('E_USAGE', `A token lifetime must be at least 1 second (got ${ttlSeconds}).`, 'e.g. --ttl 1h');
  if (ttlSeconds > max) {
    throw new CfgError(
      'E_USAGE',
      `A token lifetime of ${ttlSeconds} s is longer than grpc.auth.maxTokenLifetimeSeconds (${max} s): the server would refuse the token.`,
      'Use a shorter --ttl, or raise grpc.auth.maxTokenLifetimeSeconds in cfg.config.ts.',
    );
  }
}

/**
 * An access token shaped like Django simplejwt's: token_type, exp, iat, jti, user_id, with a
 * lifetime within grpc.auth.maxTokenLifetimeSeconds, so the server never refuses what cfg issues.
 */
export function mintAccessToken(config: CfgConfig, userId: number, ttlSeconds: number): string {
  assertTokenLifetime(config, ttlSeconds);
  const now = Math.floor(Date.now() / 1000);
  const payload = { token_type: 'access', exp: now + ttlSeconds, iat: now, jti: randomUUID().replace(/-/g, ''), user_id: userId };
  return jsonwebtoken().sign(payload, signKey(config), { algorithm: config.grpc.auth.jwtAlgorithm });
}
