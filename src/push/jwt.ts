// JWT checks shared by Socket.IO and the REST API: one explicit algorithm, `exp` required, iss/aud when
// configured, and a closed set of refusal codes callers can branch on.
import jwt from 'jsonwebtoken';
import type { TokenKeys } from './keys.js';

export const ROLES = ['operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly sub: string;
  readonly role: Role;
  /** Stations a viewer may see; operators see every station. */
  readonly chargers: 'all' | ReadonlySet<string>;
  /** Expiry, milliseconds since the epoch. */
  readonly expiresAt: number;
}

export type AuthRefusalCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_alg_none'
  | 'token_alg_not_allowed'
  | 'token_bad_signature'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_no_expiry'
  | 'token_wrong_audience'
  | 'token_wrong_issuer'
  | 'token_bad_claims';

export type VerifyResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly code: AuthRefusalCode; readonly message: string };

export type TokenVerifier = (token: string | undefined) => VerifyResult;

export interface TokenOptions {
  readonly issuer?: string;
  readonly audience?: string;
}

function refuse(code: AuthRefusalCode, message: string): VerifyResult {
  return { ok: false, code, message };
}

// jsonwebtoken reports failures only as messages; these are its fixed texts (v9).
function classify(err: unknown): VerifyResult {
  if (err instanceof jwt.TokenExpiredError) return refuse('token_expired', 'token expired');
  if (err instanceof jwt.NotBeforeError) return refuse('token_not_yet_valid', 'token not valid yet');
  const message = err instanceof Error ? err.message : String(err);
  if (message === 'invalid signature') return refuse('token_bad_signature', 'token signature does not verify');
  if (message.startsWith('jwt audience invalid')) return refuse('token_wrong_audience', 'token audience is not accepted');
  if (message.startsWith('jwt issuer invalid')) return refuse('token_wrong_issuer', 'token issuer is not accepted');
  if (message === 'invalid algorithm') return refuse('token_alg_not_allowed', 'token algorithm is not accepted');
  if (message === 'jwt signature is required') return refuse('token_alg_none', 'unsigned tokens are not accepted');
  return refuse('token_malformed', 'token is malformed');
}

function principalFrom(payload: jwt.JwtPayload): VerifyResult {
  if (typeof payload.exp !== 'number') return refuse('token_no_expiry', 'token has no exp claim');
  if (typeof payload.sub !== 'string' || payload.sub === '') return refuse('token_bad_claims', 'token has no sub claim');
  const role: unknown = payload.role;
  if (role !== 'operator' && role !== 'viewer') return refuse('token_bad_claims', 'role claim must be operator or viewer');
  const base = { sub: payload.sub, role, expiresAt: payload.exp * 1000 } as const;
  if (role === 'operator') return { ok: true, principal: { ...base, chargers: 'all' } };
  const chargers: unknown = payload.chargers;
  if (!Array.isArray(chargers) || !chargers.every((c): c is string => typeof c === 'string' && c !== '')) {
    return refuse('token_bad_claims', 'a viewer token needs a chargers claim (array of chargeBoxIds)');
  }
  return { ok: true, principal: { ...base, chargers: new Set(chargers) } };
}

export function createTokenVerifier(keys: TokenKeys, opts: TokenOptions = {}): TokenVerifier {
  const verifyOptions: jwt.VerifyOptions & { complete: false } = {
    algorithms: [keys.algorithm],
    complete: false,
    ...(opts.issuer ? { issuer: opts.issuer } : {}),
    ...(opts.audience ? { audience: opts.audience } : {}),
  };
  return (token) => {
    if (token === undefined || token === '') return refuse('token_missing', 'no token: send auth.token or an Authorization: Bearer header');
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === 'string') return refuse('token_malformed', 'token is malformed');
    // Classified before verify so "none" and algorithm confusion get their own codes.
    if (String(decoded.header.alg).toLowerCase() === 'none') return refuse('token_alg_none', 'unsigned tokens are not accepted');
    if (decoded.header.alg !== keys.algorithm) return refuse('token_alg_not_allowed', `token algorithm ${decoded.header.alg} is not accepted`);
    let payload: string | jwt.JwtPayload;
    try {
      payload = jwt.verify(token, keys.verifyKey, verifyOptions);
    } catch (err) {
      return classify(err);
    }
    if (typeof payload === 'string') return refuse('token_malformed', 'token payload is not a JSON object');
    return principalFrom(payload);
  };
}

/** The token from an `Authorization: Bearer …` header; anything else yields undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export function canSee(principal: Principal, chargeBoxId: string): boolean {
  return principal.chargers === 'all' || principal.chargers.has(chargeBoxId);
}

export interface TokenRequest {
  readonly sub: string;
  readonly role: Role;
  readonly chargers?: readonly string[];
  /** Seconds, or a duration such as "8h", "30m", "7d". */
  readonly ttl: string | number;
}

/** Signs a token with the configured key (HS256 secret or the private key file). */
export function signToken(keys: TokenKeys, req: TokenRequest, opts: TokenOptions = {}): string {
  if (!keys.signKey) throw new Error('no signing key: set JWT_PRIVATE_KEY_FILE (or use JWT_SECRET / the embedded secret)');
  const expiresIn = typeof req.ttl === 'number' ? req.ttl : (req.ttl as jwt.SignOptions['expiresIn'] & string);
  return jwt.sign(
    { role: req.role, ...(req.chargers ? { chargers: [...req.chargers] } : {}) },
    keys.signKey,
    {
      algorithm: keys.algorithm,
      subject: req.sub,
      expiresIn,
      ...(opts.issuer ? { issuer: opts.issuer } : {}),
      ...(opts.audience ? { audience: opts.audience } : {}),
    },
  );
}
