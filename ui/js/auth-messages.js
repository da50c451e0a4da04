// Plain-language text for the gateway's token refusal codes (src/push/jwt.ts AuthRefusalCode).
// Plain text on the page, so no Markdown: the commands are quoted. Where to get a new token fits the role of the
// token in hand: a rider (viewer token) asks the operator, an operator runs the command; unknown: both.
const FRESH = {
  operator: 'Get a new one: on the gateway machine run "npm run token -- --role operator" and paste the line it prints.',
  viewer: 'Ask the operator of your charger for a new one (a viewer token for your station).',
  unknown: 'Riders: ask the operator of your charger for a new one. Operators: on the gateway machine run "npm run token -- --role operator" (or "--role viewer --chargers <station id>" for a rider).',
};

const MESSAGES = {
  token_missing: () => 'No token was sent. Paste a token to sign in.',
  token_malformed: (fresh) => `That is not a valid JWT (three dot-separated parts): copy the whole token. ${fresh}`,
  token_alg_none: 'Unsigned tokens (alg "none") are refused.',
  token_alg_not_allowed: 'The token is signed with an algorithm this gateway does not accept (check JWT_ALGORITHM).',
  token_bad_signature: (fresh, role) =>
    role === 'viewer'
      ? `This gateway does not accept the token: it was signed with another key. ${fresh}`
      : `The token's signature does not verify: it was signed with another key (a different JWT_SECRET or DATA_DIR than this gateway uses). ${fresh}`,
  token_expired: (fresh) => `The token has expired. ${fresh}`,
  token_not_yet_valid: "The token is not valid yet: this computer's clock and the gateway's disagree.",
  token_no_expiry: 'The token has no expiry (exp claim); the gateway only accepts tokens that expire.',
  token_wrong_audience: 'The token was issued for another audience (JWT_AUDIENCE).',
  token_wrong_issuer: 'The token was issued by another issuer (JWT_ISSUER).',
  token_bad_claims: 'The token lacks a valid role (operator or viewer), or a viewer token has no chargers list.',
};

/** role: the role claimed by the token in hand ('operator', 'viewer' or undefined when unknown). */
export function refusalMessage(code, fallback, role) {
  const message = MESSAGES[code];
  if (typeof message === 'function') return message(FRESH[role] ?? FRESH.unknown, role);
  return message ?? (fallback ? `Sign-in refused: ${fallback}` : 'Sign-in refused by the gateway.');
}

export function isAuthRefusal(code) {
  return typeof code === 'string' && code.startsWith('token_');
}
