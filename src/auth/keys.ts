import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
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
    throw new CfgError(
      'E_CONFIG_INVALID',
      `grpc.auth.${field}: cannot read ${value}: ${(err as Error).message}`,
      'Give PEM text or a readable PEM file path.',
    );
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
      writeFileSync(file, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(file, 'utf8').trim();
}

const CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

/** Checks at start-up that a PEM key parses and suits the algorithm (RS*: RSA, ES*: EC on its curve). */
function checked(text: string, field: string, algorithm: string, parse: (pem: string) => KeyObject): string {
  let key: KeyObject;
  try {
    key = parse(text);
  } catch (err) {
    throw new CfgError(
      'E_CONFIG_INVALID',
      `grpc.auth.${field} is not a valid PEM key: ${(err as Error).message}`,
      'Give PEM text ("-----BEGIN ...") or the path of a PEM file.',
    );
  }
  const type = key.asymmetricKeyType ?? 'unknown';
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const want = algorithm.startsWith('RS') ? 'rsa' : 'ec';
  const wantCurve = CURVES[algorithm];
  if (type !== want || (wantCurve && curve !== wantCurve)) {
    const have = curve ? `${type} ${curve}` : type;
    const need = wantCurve ? `an EC ${wantCurve} key` : 'an RSA key';
    throw new CfgError(
      'E_CONFIG_INVALID',
      `grpc.auth.${field} is a ${have} key, but jwtAlgorithm ${algorithm} needs ${need}.`,
      'Use the key pair your login service signs with, or change jwtAlgorithm.',
    );
  }
  return text;
}

/** The key tokens are verified with. */
export function verifyKey(config: CfgConfig): string {
  const auth = config.grpc.auth;
  if (auth.jwtAlgorithm.startsWith('HS')) return projectSecret(config);
  if (!auth.jwtPublicKey)
    throw new CfgError(
      'E_CONFIG_INVALID',
      `grpc.auth.jwtAlgorithm is ${auth.jwtAlgorithm} but grpc.auth.jwtPublicKey is not set.`,
      'Set jwtPublicKey (PEM text or path) or CFG_JWT_PUBLIC_KEY.',
    );
  return checked(pem(auth.jwtPublicKey, 'jwtPublicKey'), 'jwtPublicKey', auth.jwtAlgorithm, createPublicKey);
}

/** The key `cfg token` signs with. */
export function signKey(config: CfgConfig): string {
  const auth = config.grpc.auth;
  if (auth.jwtAlgorithm.startsWith('HS')) return projectSecret(config);
  if (!auth.jwtPrivateKey)
    throw new CfgError(
      'E_CONFIG_INVALID',
      `grpc.auth.jwtAlgorithm is ${auth.jwtAlgorithm}: cfg token needs grpc.auth.jwtPrivateKey.`,
      'Set jwtPrivateKey (PEM text or path) or CFG_JWT_PRIVATE_KEY, or mint tokens with your login service.',
    );
  return checked(pem(auth.jwtPrivateKey, 'jwtPrivateKey'), 'jwtPrivateKey', auth.jwtAlgorithm, createPrivateKey);
}
