import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfgConfig } from '../config/types.ts';
import { CfgError } from '../errors.ts';

/** PEM text as given, or the contents of the file it names. */
function pem(value: string, field: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new CfgError('E_CONFIG_INVALID', `grpc.auth.${field}: cannot read ${value}: ${(err as Error).message}`, 'Give PEM text or a readable PEM file path.');
  }
}

/**
 * The HS* secret: auth.jwtSecretKey (or CFG_JWT_SECRET), else the project secret CFG_SECRET_KEY,
 * else var/secret_key, generated once (mode 0600), as Django's startproject writes SECRET_KEY.
 */
export function projectSecret(config: CfgConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (config.grpc.auth.jwtSecretKey) return config.grpc.auth.jwtSecretKey;
  if (env.CFG_SECRET_KEY) return env.CFG_SECRET_KEY;
  const file = join(config.root, 'var', 'secret_key');
  if (!existsSync(file)) {
    mkdirSync(join(config.root, 'var'), { recursive: true });
    try {
      writeFileSync(file, randomBytes(48).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(file, 'utf8').trim();
}

/** The key tokens are verified with. */
export function verifyKey(config: CfgConfig): string {
  const auth = config.grpc.auth;
  if (auth.jwtAlgorithm.startsWith('HS')) return projectSecret(config);
  if (!auth.jwtPublicKey) throw new CfgError('E_CONFIG_INVALID', `grpc.auth.jwtAlgorithm is ${auth.jwtAlgorithm} but grpc.auth.jwtPublicKey is not set.`, 'Set jwtPublicKey (PEM text or path) or CFG_JWT_PUBLIC_KEY.');
  return pem(auth.jwtPublicKey, 'jwtPublicKey');
}

/** The key `cfg token` signs with. */
export function signKey(config: CfgConfig): string {
  const auth = config.grpc.auth;
  if (auth.jwtAlgorithm.startsWith('HS')) return projectSecret(config);
  if (!auth.jwtPrivateKey) throw new CfgError('E_CONFIG_INVALID', `grpc.auth.jwtAlgorithm is ${auth.jwtAlgorithm}: cfg token needs grpc.auth.jwtPrivateKey.`, 'Set jwtPrivateKey (PEM text or path) or CFG_JWT_PRIVATE_KEY, or mint tokens with your login service.');
  return pem(auth.jwtPrivateKey, 'jwtPrivateKey');
}
