// Token key material. With no key configured the gateway generates an HS256 secret once, keeps it in DATA_DIR
// (mode 0600) and the token script signs with the same file, so a fresh machine needs no setup.
import { randomBytes, createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GatewayError } from '../errors.js';
import type { JwtAlgorithm, KeySource } from './config.js';

export interface TokenKeys {
  readonly algorithm: JwtAlgorithm;
  readonly verifyKey: string | KeyObject;
  /** Absent when only a public key is configured. */
  readonly signKey?: string | KeyObject;
  /** Where the key came from, for the start-up log line (never the key itself). */
  readonly origin: string;
  /** True when this call generated the embedded secret. */
  readonly created: boolean;
}

function readKeyFile(file: string, variable: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new GatewayError('GW_ERR_CONFIG', `${variable}=${file} cannot be read: ${(err as Error).message}`, { variable });
  }
}

function checkKeyType(key: KeyObject, algorithm: 'RS256' | 'ES256', variable: string): KeyObject {
  const want = algorithm === 'RS256' ? 'rsa' : 'ec';
  if (key.asymmetricKeyType !== want) {
    throw new GatewayError('GW_ERR_CONFIG', `${variable} holds a ${key.asymmetricKeyType ?? 'secret'} key; ${algorithm} needs ${want}`, { variable });
  }
  if (algorithm === 'ES256' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new GatewayError('GW_ERR_CONFIG', `${variable}: ES256 needs a P-256 (prime256v1) key`, { variable });
  }
  return key;
}

/** Reads the embedded secret, creating it (0600, exclusive create so two starters agree) when absent. */
export function loadOrCreateEmbeddedSecret(file: string): { secret: string; created: boolean } {
  try {
    const mode = statSync(file).mode & 0o777;
    // Someone loosened it (copy, umask on restore): tighten rather than refuse to start.
    if (mode & 0o077) chmodSync(file, 0o600);
    return { secret: readFileSync(file, 'utf8').trim(), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new GatewayError('GW_ERR_CONFIG', `embedded JWT secret ${file} cannot be read: ${(err as Error).message}`, { variable: 'DATA_DIR' });
    }
  }
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { secret, created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { secret: readFileSync(file, 'utf8').trim(), created: false };
    throw new GatewayError('GW_ERR_CONFIG', `embedded JWT secret ${file} cannot be written: ${(err as Error).message}`, { variable: 'DATA_DIR' });
  }
}

// A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to parse it as a public key
// on every verify, which shows in handshake storms.
const hmacKey = (secret: string): KeyObject => createSecretKey(Buffer.from(secret, 'utf8'));

export function loadTokenKeys(source: KeySource): TokenKeys {
  switch (source.kind) {
    case 'secret': {
      const key = hmacKey(source.secret);
      return { algorithm: 'HS256', verifyKey: key, signKey: key, origin: 'JWT_SECRET', created: false };
    }
    case 'embedded': {
      const { secret, created } = loadOrCreateEmbeddedSecret(source.file);
      const key = hmacKey(secret);
      return { algorithm: 'HS256', verifyKey: key, signKey: key, origin: source.file, created };
    }
    case 'keyFiles': {
      let verifyKey: KeyObject;
      try {
        verifyKey = createPublicKey(readKeyFile(source.publicKeyFile, 'JWT_PUBLIC_KEY_FILE'));
      } catch (err) {
        if (err instanceof GatewayError) throw err;
        throw new GatewayError('GW_ERR_CONFIG', `JWT_PUBLIC_KEY_FILE=${source.publicKeyFile} is not a PEM public key`, { variable: 'JWT_PUBLIC_KEY_FILE' });
      }
      checkKeyType(verifyKey, source.algorithm, 'JWT_PUBLIC_KEY_FILE');
      let signKey: KeyObject | undefined;
      if (source.privateKeyFile) {
        try {
          signKey = createPrivateKey(readKeyFile(source.privateKeyFile, 'JWT_PRIVATE_KEY_FILE'));
        } catch (err) {
          if (err instanceof GatewayError) throw err;
          throw new GatewayError('GW_ERR_CONFIG', `JWT_PRIVATE_KEY_FILE=${source.privateKeyFile} is not a PEM private key`, { variable: 'JWT_PRIVATE_KEY_FILE' });
        }
        checkKeyType(signKey, source.algorithm, 'JWT_PRIVATE_KEY_FILE');
      }
      return { algorithm: source.algorithm, verifyKey, ...(signKey ? { signKey } : {}), origin: source.publicKeyFile, created: false };
    }
  }
}
