// The JWT lives in sessionStorage only (gone when the tab closes) and is read back for the Socket.IO handshake
// and Authorization headers. Claims are decoded for display; the gateway does the real verification.
const KEY = 'chargebridge.token';

export function loadToken() {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
}

/** What people paste: the token, maybe with "Bearer ", quotes or line breaks from a terminal. */
export function cleanToken(text) {
  return String(text ?? '')
    .trim()
    .replace(/^Bearer\s+/i, '')
    .replace(/^["']|["']$/g, '')
    .replace(/\s+/g, '');
}

function base64UrlJson(part) {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** { sub, role, exp (ms), chargers } or undefined when the text is not a JWT. */
export function readClaims(token) {
  const parts = String(token ?? '').split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = base64UrlJson(parts[1]);
    if (typeof payload !== 'object' || payload === null) return undefined;
    return {
      sub: typeof payload.sub === 'string' ? payload.sub : undefined,
      role: payload.role === 'operator' || payload.role === 'viewer' ? payload.role : undefined,
      exp: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
      chargers: Array.isArray(payload.chargers) ? payload.chargers.filter((c) => typeof c === 'string') : undefined,
    };
  } catch {
    return undefined;
  }
}
