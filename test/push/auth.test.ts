// Handshake refusals and role limits over real Socket.IO clients on loopback.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ack, connect, operatorToken, refusal, startPushGateway, token, viewerToken, type PushGateway } from './support/harness.js';

describe('push handshake (HS256)', () => {
  let pg: PushGateway;
  beforeAll(async () => {
    pg = await startPushGateway({ JWT_ISSUER: 'chargebridge-test', JWT_AUDIENCE: 'push' });
  });
  afterAll(async () => pg.close());
  const good = (claims: Record<string, unknown> = {}, opts: jwt.SignOptions & { secret?: string; noExp?: boolean } = {}) =>
    token(claims, { issuer: 'chargebridge-test', audience: 'push', ...opts });

  it('accepts a valid token in handshake.auth', async () => {
    expect(await refusal(pg.url, { token: good() })).toBe('connected');
  });

  it('accepts a valid token in an Authorization: Bearer header', async () => {
    expect(await refusal(pg.url, { headers: { authorization: `Bearer ${good()}` } })).toBe('connected');
  });

  it('falls back to the Bearer header when auth carries no token; a non-string auth.token is malformed', async () => {
    expect(await refusal(pg.url, { auth: { token: null }, headers: { authorization: `Bearer ${good()}` } })).toBe('connected');
    expect(await refusal(pg.url, { auth: { token: 42 } })).toBe('token_malformed');
  });

  it('refuses a missing token', async () => {
    expect(await refusal(pg.url, {})).toBe('token_missing');
  });

  it('ignores a token in the query string', async () => {
    expect(await refusal(pg.url, { query: { token: good() } })).toBe('token_missing');
  });

  it('refuses garbage', async () => {
    expect(await refusal(pg.url, { token: 'not.a.jwt' })).toBe('token_malformed');
    expect(await refusal(pg.url, { token: 'garbage' })).toBe('token_malformed');
  });

  it('refuses a token signed with another key', async () => {
    expect(await refusal(pg.url, { token: good({}, { secret: 'another-secret-of-sufficient-length-000' }) })).toBe('token_bad_signature');
  });

  it('refuses alg none', async () => {
    const unsigned = jwt.sign({ sub: 'x', role: 'operator', iss: 'chargebridge-test', aud: 'push', exp: Math.floor(Date.now() / 1000) + 600 }, '', { algorithm: 'none' });
    expect(await refusal(pg.url, { token: unsigned })).toBe('token_alg_none');
  });

  it('refuses another algorithm than the configured one', async () => {
    const hs512 = jwt.sign({ sub: 'x', role: 'operator' }, 'test-secret-0123456789-abcdefghijklmnop', { algorithm: 'HS512', expiresIn: 60, issuer: 'chargebridge-test', audience: 'push' });
    expect(await refusal(pg.url, { token: hs512 })).toBe('token_alg_not_allowed');
  });

  it('refuses an expired token', async () => {
    expect(await refusal(pg.url, { token: good({ exp: Math.floor(Date.now() / 1000) - 10 }, { noExp: true }) })).toBe('token_expired');
  });

  it('refuses a token without exp', async () => {
    expect(await refusal(pg.url, { token: good({}, { noExp: true }) })).toBe('token_no_expiry');
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    expect(await refusal(pg.url, { token: good({}, { audience: 'someone-else' }) })).toBe('token_wrong_audience');
    expect(await refusal(pg.url, { token: good({}, { issuer: 'elsewhere' }) })).toBe('token_wrong_issuer');
  });

  it('refuses bad claims: unknown role, viewer without chargers', async () => {
    expect(await refusal(pg.url, { token: good({ role: 'admin' }) })).toBe('token_bad_claims');
    expect(await refusal(pg.url, { token: good({ role: 'viewer' }) })).toBe('token_bad_claims');
  });

  it('counts refusals by code in the push stats', () => {
    const refusals = pg.push.stats().authRefusals;
    expect(refusals.token_missing).toBeGreaterThanOrEqual(2);
    expect(refusals.token_bad_signature).toBe(1);
    expect(refusals.token_alg_none).toBe(1);
  });

  it('viewer: stations outside the chargers claim are refused by name', async () => {
    const s = await connect(pg.url, { token: good({ role: 'viewer', chargers: ['CP1'] }) });
    const res = await ack<{ ok: boolean; refused: string[]; stations: { chargeBoxId: string }[] }>(s, 'subscribe', { chargeBoxIds: ['CP1', 'CP2', 'CP3'] });
    expect(res.ok).toBe(true);
    expect(res.refused).toEqual(['CP2', 'CP3']);
    expect(res.stations.map((x) => x.chargeBoxId)).toEqual(['CP1']);
    const all = await ack<{ ok: boolean; all: boolean; stations: { chargeBoxId: string }[] }>(s, 'subscribe', { all: true });
    expect(all.all).toBe(false);
    expect(all.stations.map((x) => x.chargeBoxId)).toEqual(['CP1']);
    const replay = await ack<{ ok: boolean; error?: { code: string } }>(s, 'replay', { chargeBoxId: 'CP2', since: 0 });
    expect(replay.error?.code).toBe('forbidden');
    s.close();
  });

  it('viewer: frame stream, metrics and calls are refused', async () => {
    const s = await connect(pg.url, { token: good({ role: 'viewer', chargers: ['CP1'] }) });
    for (const [event, args] of [
      ['frames:subscribe', [{}]],
      ['frames:filter', [{ direction: 'in' }]],
      ['metrics:subscribe', []],
      ['call', [{ chargeBoxId: 'CP1', action: 'Reset', payload: { type: 'Soft' } }]],
    ] as const) {
      const res = await ack<{ ok: boolean; error?: { code: string } }>(s, event, ...args);
      expect(res, event).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    s.close();
  });

  it('rejects malformed subscribe requests with invalid_params', async () => {
    const s = await connect(pg.url, { token: good() });
    expect(await ack(s, 'subscribe', { chargeBoxIds: 'CP1' })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    expect(await ack(s, 'subscribe', { chargeBoxIds: ['CP1'], since: { CP1: -1 } })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    expect(await ack(s, 'frames:subscribe', { direction: 'sideways' })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
    s.close();
  });
});

describe('push handshake (RS256 / ES256 key files)', () => {
  for (const algorithm of ['RS256', 'ES256'] as const) {
    it(`${algorithm}: accepts tokens signed with the private key, refuses HS256 signed with the public key`, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-push-keys-'));
      const pair = algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const pub = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      writeFileSync(path.join(dir, 'pub.pem'), pub);
      const pg = await startPushGateway({ JWT_SECRET: '', JWT_PUBLIC_KEY_FILE: path.join(dir, 'pub.pem'), JWT_ALGORITHM: algorithm });
      try {
        const signed = jwt.sign({ sub: 'a', role: 'operator' }, pair.privateKey, { algorithm, expiresIn: 60 });
        expect(await refusal(pg.url, { token: signed })).toBe('connected');
        // Algorithm confusion: the public key used as an HMAC secret.
        const confused = jwt.sign({ sub: 'a', role: 'operator' }, pub, { algorithm: 'HS256', expiresIn: 60 });
        expect(await refusal(pg.url, { token: confused })).toBe('token_alg_not_allowed');
        const other = algorithm === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
        expect(await refusal(pg.url, { token: jwt.sign({ sub: 'a', role: 'operator' }, other.privateKey, { algorithm, expiresIn: 60 }) })).toBe('token_bad_signature');
      } finally {
        await pg.close();
      }
    });
  }
});

describe('operator token', () => {
  it('connects without issuer/audience configured', async () => {
    const pg = await startPushGateway();
    try {
      expect(await refusal(pg.url, { token: operatorToken() })).toBe('connected');
      expect(await refusal(pg.url, { token: viewerToken(['CP9']) })).toBe('connected');
    } finally {
      await pg.close();
    }
  });
});
