// Who may open /ocpp/{chargeBoxId}: security profile 3 (a client certificate whose subject CN is the chargeBoxId),
// else a learned AuthorizationKey (it supersedes CONFIG_FILE's password), else CONFIG_FILE's password (profile 1/2),
// else nobody asks. Also holds, for the life of a link, the password a station presented with a key SteVe set,
// because SteVe then expects that same key on the gateway's upstream connection.
import type http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { StationKeys } from './station-keys.js';

export type AuthVerdict =
  | {
      readonly ok: true;
      /** The station's own password, to present upstream for this link (a learned key SteVe set). */
      readonly upstreamPassword?: string;
    }
  | {
      readonly ok: false;
      readonly status: 401 | 403 | 503;
      /** One sentence naming the cause and the fix: the HTTP body and the warning log line. */
      readonly why: string;
      readonly headers?: Readonly<Record<string, string>>;
    };

export interface StationAuthOptions {
  /** CONFIG_FILE's password for a station, if any. */
  readonly passwordFor: (chargeBoxId: string) => string | undefined;
  readonly requireAuth: boolean;
  /** Learned keys; absent in tests that do not need them. */
  readonly keys?: StationKeys;
  /** TLS_CLIENT_CA_FILE set: every station needs a client certificate (security profile 3). */
  readonly mutualTls: boolean;
}

export type StationAuthenticator = (chargeBoxId: string, req: http.IncomingMessage) => AuthVerdict | Promise<AuthVerdict>;

const BASIC_CHALLENGE = { 'WWW-Authenticate': 'Basic realm="chargebridge", charset="UTF-8"' };

function basicCredentials(req: http.IncomingMessage): { user: string; password: string } | undefined {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function passwordMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Profile 3: the TLS layer asked for a certificate (requestCert) but let every peer through; decide here. */
export function clientCertificateVerdict(chargeBoxId: string, req: http.IncomingMessage): AuthVerdict {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket)) {
    return { ok: false, status: 401, why: 'security profile 3: connect over wss:// with a client certificate' };
  }
  const cert = socket.getPeerCertificate();
  if (Object.keys(cert).length === 0) {
    return { ok: false, status: 401, why: 'security profile 3: no client certificate presented; the station needs one signed by the gateway\'s client CA, with CN = its chargeBoxId' };
  }
  if (!socket.authorized) {
    const cause = socket.authorizationError instanceof Error ? socket.authorizationError.message : String(socket.authorizationError);
    return { ok: false, status: 401, why: `security profile 3: client certificate not trusted (${cause}); it must be signed by the CA in TLS_CLIENT_CA_FILE` };
  }
  const cn = cert.subject?.CN;
  if (typeof cn !== 'string') {
    return { ok: false, status: 403, why: `security profile 3: the client certificate must carry exactly one subject CN equal to the chargeBoxId "${chargeBoxId}"` };
  }
  if (cn !== chargeBoxId) {
    const shown = cn.length > 64 ? `${cn.slice(0, 64)}...` : cn; // X.509 allows 64 characters; a longer one is cut
    return { ok: false, status: 403, why: `security profile 3: client certificate CN ${JSON.stringify(shown)} does not match chargeBoxId "${chargeBoxId}"` };
  }
  return { ok: true };
}

export function createStationAuthenticator(options: StationAuthOptions): StationAuthenticator {
  const refuseBasic = (why: string): AuthVerdict => ({ ok: false, status: 401, why, headers: BASIC_CHALLENGE });

  const withLearnedKey = async (id: string, keys: StationKeys, creds: { user: string; password: string } | undefined): Promise<AuthVerdict> => {
    if (!creds || creds.user !== id) return refuseBasic('HTTP Basic auth required: username = chargeBoxId, password = the AuthorizationKey the station accepted last');
    const result = await keys.check(id, creds.password);
    if (result === 'busy') return { ok: false, status: 503, why: 'too many station key checks in progress: retry in a few seconds', headers: { 'Retry-After': '5' } };
    if (result === 'mismatch') return refuseBasic('HTTP Basic auth failed: the password must be the AuthorizationKey the station accepted last (the CONFIG_FILE password no longer counts for it)');
    return keys.setBy(id) === 'steve' ? { ok: true, upstreamPassword: creds.password } : { ok: true };
  };

  return (id, req) => {
    if (options.mutualTls) return clientCertificateVerdict(id, req);
    const creds = basicCredentials(req);
    if (options.keys?.has(id)) return withLearnedKey(id, options.keys, creds);
    const expected = options.passwordFor(id);
    if (expected === undefined && !options.requireAuth) return { ok: true };
    const ok = expected !== undefined && creds !== undefined && creds.user === id && passwordMatches(creds.password, expected);
    return ok ? { ok: true } : refuseBasic('HTTP Basic auth required: username = chargeBoxId, password as configured');
  };
}

/**
 * Passwords stations presented that the gateway must present upstream in turn, one per live link. Kept in memory
 * only, dropped when the link closes.
 */
export class UpstreamPasswords {
  readonly #held = new Map<string, { readonly owner: object; readonly password: string }>();

  /** A newly accepted link: its password, or none (then a replaced link's entry must not leak into it). */
  hold(chargeBoxId: string, owner: object, password: string | undefined): void {
    if (password === undefined) this.#held.delete(chargeBoxId);
    else this.#held.set(chargeBoxId, { owner, password });
  }

  /** Drops the entry if `owner` (the link) still holds it: a replacing link may already have its own. */
  release(chargeBoxId: string, owner: object): void {
    if (this.#held.get(chargeBoxId)?.owner === owner) this.#held.delete(chargeBoxId);
  }

  get(chargeBoxId: string): string | undefined {
    return this.#held.get(chargeBoxId)?.password;
  }
}
