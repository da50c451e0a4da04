// Push configuration: key sources, cross-field checks that name the variable, defaults.
import { describe, expect, it } from 'vitest';
import { parsePushConfig } from '../../src/push/config.js';
import { GatewayError } from '../../src/errors.js';

const core = { dataDir: '/var/lib/chargebridge', callTimeoutMs: 30_000 };
const variableOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'GW_ERR_CONFIG') return String(err.details.variable);
    throw err;
  }
  return undefined;
};

describe('parsePushConfig', () => {
  it('defaults: embedded secret in DATA_DIR, 2 s metrics, closed API, no dev tokens', () => {
    const c = parsePushConfig({}, core);
    expect(c.key).toEqual({ kind: 'embedded', algorithm: 'HS256', file: '/var/lib/chargebridge/jwt-secret' });
    expect(c).toMatchObject({ metricsIntervalMs: 2000, apiOpenOnLoopback: false, devTokenEndpoint: false, frameQueueLimit: 1000, clientBufferBytes: 1_048_576, stallTimeoutMs: 30_000, callTimeoutMs: 30_000 });
    expect(c.issuer).toBeUndefined();
  });

  it('JWT_SECRET (HS256) and key files (RS256 / ES256)', () => {
    expect(parsePushConfig({ JWT_SECRET: 's'.repeat(32) }, core).key).toEqual({ kind: 'secret', algorithm: 'HS256', secret: 's'.repeat(32) });
    expect(parsePushConfig({ JWT_PUBLIC_KEY_FILE: '/k/pub.pem' }, core).key).toEqual({ kind: 'keyFiles', algorithm: 'RS256', publicKeyFile: '/k/pub.pem' });
    expect(parsePushConfig({ JWT_PUBLIC_KEY_FILE: '/k/pub.pem', JWT_PRIVATE_KEY_FILE: '/k/key.pem', JWT_ALGORITHM: 'ES256' }, core).key).toMatchObject({ algorithm: 'ES256', privateKeyFile: '/k/key.pem' });
  });

  it('refuses contradictions, naming the variable', () => {
    expect(variableOf(() => parsePushConfig({ JWT_SECRET: 's'.repeat(32), JWT_PUBLIC_KEY_FILE: '/k' }, core))).toBe('JWT_PUBLIC_KEY_FILE');
    expect(variableOf(() => parsePushConfig({ JWT_SECRET: 'short' }, core))).toBe('JWT_SECRET');
    expect(variableOf(() => parsePushConfig({ JWT_PUBLIC_KEY_FILE: '/k', JWT_ALGORITHM: 'HS256' }, core))).toBe('JWT_ALGORITHM');
    expect(variableOf(() => parsePushConfig({ JWT_ALGORITHM: 'RS256' }, core))).toBe('JWT_ALGORITHM');
    expect(variableOf(() => parsePushConfig({ JWT_ALGORITHM: 'none' }, core))).toBe('JWT_ALGORITHM');
    expect(variableOf(() => parsePushConfig({ JWT_PRIVATE_KEY_FILE: '/k' }, core))).toBe('JWT_PUBLIC_KEY_FILE');
    expect(variableOf(() => parsePushConfig({ PUSH_METRICS_INTERVAL_MS: '5' }, core))).toBe('PUSH_METRICS_INTERVAL_MS');
    expect(variableOf(() => parsePushConfig({ API_OPEN_ON_LOOPBACK: 'maybe' }, core))).toBe('API_OPEN_ON_LOOPBACK');
    expect(variableOf(() => parsePushConfig({ PUSH_STALL_TIMEOUT_MS: '10' }, core))).toBe('PUSH_STALL_TIMEOUT_MS');
    expect(variableOf(() => parsePushConfig({ PUSH_CLIENT_BUFFER_BYTES: '100' }, core))).toBe('PUSH_CLIENT_BUFFER_BYTES');
  });
});
