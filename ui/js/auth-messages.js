// Plain-language text for the gateway's token refusal codes (src/push/jwt.ts AuthRefusalCode).
// Plain text on the page, so no Markdown: the commands are quoted. Both roles are named: the hint must fit a
// rider with a viewer token as well as an operator.
const FRESH =
  'Get a new token: on the gateway machine an operator prints one with "npm run token -- --role operator", or "npm run token -- --role viewer --chargers <station id>" for one station.';

const MESSAGES = {
  token_missing: 'No token was sent. Paste a token to sign in.',
  token_malformed: `That is not a valid JWT (three dot-separated parts). Copy the whole line the token command printed. ${FRESH}`,
  token_alg_none: 'Unsigned tokens (alg "none") are refused.',
  token_alg_not_allowed: 'The token is signed with an algorithm this gateway does not accept (check JWT_ALGORITHM).',
  token_bad_signature: `The token's signature does not verify: it was signed with another key (a different JWT_SECRET or DATA_DIR than this gateway uses). ${FRESH}`,
  token_expired: `The token has expired. ${FRESH}`,
  token_not_yet_valid: "The token is not valid yet: this computer's clock and the gateway's disagree.",
  token_no_expiry: 'The token has no expiry (exp claim); the gateway only accepts tokens that expire.',
  token_wrong_audience: 'The token was issued for another audience (JWT_AUDIENCE).',
  token_wrong_issuer: 'The token was issued by another issuer (JWT_ISSUER).',
  token_bad_claims: 'The token lacks a valid role (operator or viewer), or a viewer token has no chargers list.',
};

export function refusalMessage(code, fallback) {
  return MESSAGES[code] ?? (fallback ? `Sign-in refused: ${fallback}` : 'Sign-in refused by the gateway.');
}

export function isAuthRefusal(code) {
  return typeof code === 'string' && code.startsWith('token_');
}
