// Small readers for environment variables. Each failure names the variable and what it wants,
// so start-up can stop with one clear line. Feature modules (cdc/, push/, serial/, sim/) parse their own
// variables with these; src/config.ts owns the core ones.
import { GatewayError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

function bad(name: string, want: string, got: string): never {
  throw new GatewayError('GW_ERR_CONFIG', `${name}=${JSON.stringify(got)} is invalid: expected ${want}`, { variable: name });
}

export function envString(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function envInt(env: Env, name: string, fallback: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  const v = envString(env, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) bad(name, 'an integer', v);
  const n = Number(v);
  if (n < min || n > max) bad(name, `an integer in ${min}..${max}`, v);
  return n;
}

export function envNumber(env: Env, name: string, fallback: number, min = -Infinity, max = Infinity): number {
  const v = envString(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) bad(name, `a number in ${min}..${max}`, v);
  return n;
}

export function envBool(env: Env, name: string, fallback: boolean): boolean {
  const v = envString(env, name);
  if (v === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  return bad(name, 'true or false', v);
}

export function envEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = envString(env, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) bad(name, `one of ${allowed.join(', ')}`, v);
  return v as T;
}

export function envUrl(env: Env, name: string, protocols: readonly string[]): URL | undefined {
  const v = envString(env, name);
  if (v === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return bad(name, `a URL (${protocols.join(' or ')})`, v);
  }
  if (!protocols.includes(url.protocol)) bad(name, `a URL starting with ${protocols.join(' or ')}`, v);
  return url;
}
