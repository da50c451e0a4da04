// Webhook settings: limits from the environment, subscriptions from CONFIG_FILE (`webhooks: [...]`) and REST.
// One checker for both sources, so a bad entry gets the same clear message wherever it came from.
import { randomBytes } from 'node:crypto';
import { envInt, type Env } from '../config-env.js';
import { EVENT_TYPES, type EventType } from '../events/catalogue.js';
import { GatewayError } from '../errors.js';

export interface WebhookLimits {
  /** Attempts before an event goes to the dead-letter list (WEBHOOKS_MAX_ATTEMPTS, default 8). */
  readonly maxAttempts: number;
  /** First retry delay; doubles per attempt, with jitter (WEBHOOKS_RETRY_BASE_MS, default 1000). */
  readonly retryBaseMs: number;
  /** Longest retry delay (WEBHOOKS_RETRY_MAX_MS, default 300000). */
  readonly retryMaxMs: number;
  /** One POST may take this long (WEBHOOKS_TIMEOUT_MS, default 10000). */
  readonly timeoutMs: number;
  /** Stations delivered in parallel per subscription (WEBHOOKS_CONCURRENCY, default 4). */
  readonly concurrency: number;
  /** Bytes of queued bodies per subscription; beyond it new events are dropped and counted (WEBHOOKS_QUEUE_BYTES, default 16 MiB). */
  readonly queueBytes: number;
  /** Bytes of dead-letter bodies per subscription; beyond it the oldest are dropped and counted (WEBHOOKS_DEAD_BYTES, default 4 MiB). */
  readonly deadBytes: number;
}

export function parseWebhookLimits(env: Env): WebhookLimits {
  const retryBaseMs = envInt(env, 'WEBHOOKS_RETRY_BASE_MS', 1000, 10, 3_600_000);
  return {
    maxAttempts: envInt(env, 'WEBHOOKS_MAX_ATTEMPTS', 8, 1, 1000),
    retryBaseMs,
    retryMaxMs: Math.max(retryBaseMs, envInt(env, 'WEBHOOKS_RETRY_MAX_MS', 300_000, 10, 86_400_000)),
    timeoutMs: envInt(env, 'WEBHOOKS_TIMEOUT_MS', 10_000, 100, 600_000),
    concurrency: envInt(env, 'WEBHOOKS_CONCURRENCY', 4, 1, 64),
    queueBytes: envInt(env, 'WEBHOOKS_QUEUE_BYTES', 16 * 1024 * 1024, 1024),
    deadBytes: envInt(env, 'WEBHOOKS_DEAD_BYTES', 4 * 1024 * 1024, 1024),
  };
}

/** 'all', or an explicit non-empty list. */
export type Selection<T extends string> = 'all' | readonly T[];

export interface Subscription {
  readonly id: string;
  readonly url: string;
  /** Never returned by the API after creation and never logged (see `fingerprint`). */
  readonly secret: string;
  readonly types: Selection<EventType>;
  readonly stations: Selection<string>;
  /** Only events that stem from these OCPP actions (filter.ts); absent: no action filter. */
  readonly actions?: readonly string[];
  /** config: from CONFIG_FILE, read-only over REST; api: created over REST, kept in DATA_DIR/webhooks/. */
  readonly origin: 'config' | 'api';
}

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

export class WebhookInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookInputError';
  }
}

function stringList(where: string, v: unknown): readonly string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x !== '')) {
    throw new WebhookInputError(`${where} must be "all" or a non-empty list of strings`);
  }
  return [...new Set(v as string[])];
}

function selection(where: string, v: unknown): Selection<string> {
  if (v === undefined || v === 'all') return 'all';
  return stringList(where, v);
}

export function checkUrl(where: string, v: unknown): string {
  if (typeof v !== 'string') throw new WebhookInputError(`${where}.url must be a string (http:// or https://)`);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new WebhookInputError(`${where}.url is not a URL: ${JSON.stringify(v.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookInputError(`${where}.url must start with http:// or https://`);
  return url.href;
}

function checkSecret(where: string, v: unknown): string {
  if (typeof v !== 'string' || v.length < 16) throw new WebhookInputError(`${where}.secret must be a string of at least 16 characters (or leave it out to have one generated)`);
  return v;
}

export function newSecret(): string {
  return randomBytes(32).toString('hex');
}

export class WebhookNotFound extends Error {
  override name = 'WebhookNotFound';
}
export class WebhookReadOnly extends Error {
  override name = 'WebhookReadOnly';
}

const KNOWN_KEYS = new Set(['id', 'url', 'secret', 'types', 'stations', 'actions']);

/** Checks one subscription object (CONFIG_FILE entry or POST body). A missing secret is generated. */
export function checkSubscription(where: string, raw: unknown, origin: Subscription['origin'], fallbackId: () => string): Subscription {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new WebhookInputError(`${where} must be an object with url, types, stations`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN_KEYS.has(k)) throw new WebhookInputError(`${where}: unknown field "${k}" (known: ${[...KNOWN_KEYS].join(', ')})`);
  const id = o.id === undefined ? fallbackId() : o.id;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) throw new WebhookInputError(`${where}.id must be 1-64 letters, digits, _ or -`);
  const types = selection(`${where}.types`, o.types);
  if (types !== 'all') {
    const unknown = types.filter((t) => !TYPES.has(t));
    if (unknown.length > 0) throw new WebhookInputError(`${where}.types: unknown event type ${unknown.join(', ')} (known: ${EVENT_TYPES.join(', ')})`);
  }
  return {
    id,
    url: checkUrl(where, o.url),
    secret: o.secret === undefined ? newSecret() : checkSecret(where, o.secret),
    types: types as Selection<EventType>,
    stations: selection(`${where}.stations`, o.stations),
    ...(o.actions !== undefined ? { actions: stringList(`${where}.actions`, o.actions) } : {}),
    origin,
  };
}

/** The `webhooks` section of CONFIG_FILE; each entry needs an id (its queue and metrics are kept under it). */
export function parseConfigSubscriptions(file: Readonly<Record<string, unknown>>): Subscription[] {
  const raw = file.webhooks;
  if (raw === undefined) return [];
  const fail = (message: string): never => {
    throw new GatewayError('GW_ERR_CONFIG', `CONFIG_FILE: ${message}`, { variable: 'CONFIG_FILE' });
  };
  if (!Array.isArray(raw)) return fail('"webhooks" must be a list of subscriptions');
  const seen = new Set<string>();
  return raw.map((entry, i) => {
    try {
      const sub = checkSubscription(`webhooks[${i}]`, entry, 'config', () => {
        throw new WebhookInputError(`webhooks[${i}].id is required in CONFIG_FILE (its queue in DATA_DIR/webhooks/ is kept under it)`);
      });
      if (typeof (entry as Record<string, unknown>).secret !== 'string') throw new WebhookInputError(`webhooks[${i}].secret is required in CONFIG_FILE (the receiver needs it to check signatures)`);
      if (seen.has(sub.id)) throw new WebhookInputError(`webhooks[${i}].id "${sub.id}" is used twice`);
      seen.add(sub.id);
      return sub;
    } catch (err) {
      return fail((err as Error).message);
    }
  });
}
