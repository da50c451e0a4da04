// What a receiver checks: HMAC-SHA256 of the exact body bytes with the subscription's secret.
import { createHash, createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-chargebridge-signature';
export const TIMESTAMP_HEADER = 'x-chargebridge-timestamp';
export const EVENT_ID_HEADER = 'x-chargebridge-event-id';
export const ATTEMPT_HEADER = 'x-chargebridge-attempt';
export const SUBSCRIPTION_HEADER = 'x-chargebridge-subscription';

/** `sha256=<hex>`, the value of X-Chargebridge-Signature. */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Shown instead of the secret: enough to tell two secrets apart, useless to forge a signature. */
export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12)}`;
}

/** The URL as it may be shown or logged: a password in it is replaced. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.href;
  } catch {
    return '(invalid URL)';
  }
}
