// Checks a pasted token locally (shape and expiry) so an obvious mistake is explained before any handshake.
import { refusalMessage } from './auth-messages.js';
import { readClaims } from './token-store.js';

/** A reason the token cannot work, found without asking the gateway; undefined when it looks usable. */
export function localTokenProblem(token, now = Date.now()) {
  const claims = readClaims(token);
  if (!claims) return refusalMessage('token_malformed');
  if (claims.exp !== undefined && claims.exp <= now) return refusalMessage('token_expired', undefined, claims.role);
  return undefined;
}
