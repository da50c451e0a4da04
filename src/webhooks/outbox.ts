// One subscription's delivery: a queue per station (in order, one POST in flight per station), stations in parallel
// up to `concurrency`, retries with exponential backoff and jitter, a dead-letter list, a byte budget.
import type { WebhookLimits, Subscription } from './config.js';
import { Journal, type DeadItem, type StoredItem } from './journal.js';
import { ATTEMPT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, SUBSCRIPTION_HEADER, TIMESTAMP_HEADER, sign } from './signature.js';

interface Item extends StoredItem {
  attempts: number;
  lastError?: string;
}

export interface OutboxStats {
  readonly queued: number;
  readonly queuedBytes: number;
  readonly delivered: number;
  /** Failed attempts (each retry that failed counts once). */
  readonly failed: number;
  /** Stations whose next event waits for a retry. */
  readonly retrying: number;
  readonly dead: number;
  readonly deadBytes: number;
  /** Events not queued because the byte budget was full. */
  readonly dropped: number;
  /** Dead letters dropped (oldest first) because the dead-letter budget was full. */
  readonly deadDropped: number;
  readonly latencyMs: { readonly last: number | null; readonly avg: number | null; readonly max: number | null };
  readonly lastError: string | null;
}

export interface OutboxDeps {
  /** Names the journal file; fixed for the subscription's life. */
  readonly id: string;
  readonly subscription: () => Subscription;
  readonly limits: WebhookLimits;
  readonly dir: string;
  readonly onDelivered: (seconds: number) => void;
  readonly onStoreError: (err: unknown) => void;
  /** An event was given up on (moved to the dead-letter list). */
  readonly onDead: (item: DeadItem) => void;
  readonly random?: () => number;
}

/** fetch refuses URLs with credentials: user:password@ in a subscription URL becomes HTTP Basic auth. */
function target(url: string): { url: string; auth?: string } {
  const u = new URL(url);
  if (u.username === '' && u.password === '') return { url };
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  return { url: u.href, auth };
}

/** 408 and 429 mean "later"; other 4xx mean the receiver will never take this body, so retrying is pointless. */
function permanent(status: number): boolean {
  return (status >= 300 && status < 500 && status !== 408 && status !== 429);
}

export class Outbox {
  readonly #deps: OutboxDeps;
  readonly #journal: Journal;
  readonly #stations = new Map<string, Item[]>();
  /** Stations with a POST in flight or a retry timer pending. */
  readonly #busy = new Map<string, NodeJS.Timeout | 'sending'>();
  readonly #dead = new Map<number, DeadItem>();
  #inFlight = 0;
  #nextKey = 1;
  #queuedCount = 0;
  #queuedBytes = 0;
  #deadBytes = 0;
  #delivered = 0;
  #failed = 0;
  #dropped = 0;
  #deadDropped = 0;
  #latency = { last: null as number | null, sum: 0, n: 0, max: null as number | null };
  #lastError: string | null = null;
  #running = false;
  readonly #aborts = new Set<AbortController>();

  constructor(deps: OutboxDeps) {
    this.#deps = deps;
    this.#journal = new Journal(deps.dir, deps.id, () => ({
      queued: [...this.#stations.values()].flat(),
      dead: this.#dead.values(),
      liveBytes: this.#queuedBytes + this.#deadBytes,
    }), deps.onStoreError);
  }

  /** Loads what a previous run left undelivered; returns how many journal lines were unreadable. */
  load(): number {
    const r = this.#journal.replay();
    this.#nextKey = r.nextKey;
    for (const q of r.queued) this.#push({ ...q, attempts: 0 });
    for (const d of r.dead) {
      this.#dead.set(d.key, d);
      this.#deadBytes += d.body.length;
    }
    return r.badLines;
  }

  start(): void {
    this.#running = true;
    this.#pump();
  }

  /** Stops sending; what is queued stays on disk for the next start. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const t of this.#busy.values()) if (t !== 'sending') clearTimeout(t);
    for (const a of this.#aborts) a.abort();
    await this.#journal.flush();
  }

  /** Stops and forgets everything (the subscription was deleted). */
  async destroy(): Promise<void> {
    await this.stop();
    await this.#journal.destroy();
  }

  enqueue(eventId: string, station: string, body: string): void {
    if (this.#queuedBytes + body.length > this.#deps.limits.queueBytes) {
      this.#dropped++;
      return;
    }
    const item: Item = { key: this.#nextKey++, eventId, station, body, enqueuedAt: Date.now(), attempts: 0 };
    this.#push(item);
    this.#journal.queued(item);
    this.#pump();
  }

  deadLetters(): readonly DeadItem[] {
    return [...this.#dead.values()];
  }

  /** Puts dead letters (all, or those keys) back at the end of their station's queue; returns how many. */
  redeliver(keys?: readonly number[]): number {
    let n = 0;
    for (const d of keys ? [...new Set(keys)].flatMap((k) => this.#dead.get(k) ?? []) : [...this.#dead.values()]) {
      this.#dead.delete(d.key);
      this.#deadBytes -= d.body.length;
      this.#push({ key: d.key, eventId: d.eventId, station: d.station, body: d.body, enqueuedAt: d.enqueuedAt, attempts: 0 });
      this.#journal.requeued(d.key);
      n++;
    }
    this.#pump();
    return n;
  }

  clearDead(keys?: readonly number[]): number {
    let n = 0;
    for (const d of keys ? [...new Set(keys)].flatMap((k) => this.#dead.get(k) ?? []) : [...this.#dead.values()]) {
      this.#dead.delete(d.key);
      this.#deadBytes -= d.body.length;
      this.#journal.cleared(d.key);
      n++;
    }
    return n;
  }

  /** A changed URL or secret applies from the next attempt; a waiting retry is tried now. */
  retryNow(): void {
    for (const [station, t] of this.#busy) {
      if (t !== 'sending') {
        clearTimeout(t);
        this.#busy.delete(station);
      }
    }
    this.#pump();
  }

  stats(): OutboxStats {
    let retrying = 0;
    for (const t of this.#busy.values()) if (t !== 'sending') retrying++;
    const l = this.#latency;
    return {
      queued: this.#queuedCount,
      queuedBytes: this.#queuedBytes,
      delivered: this.#delivered,
      failed: this.#failed,
      retrying,
      dead: this.#dead.size,
      deadBytes: this.#deadBytes,
      dropped: this.#dropped,
      deadDropped: this.#deadDropped,
      latencyMs: { last: l.last, avg: l.n === 0 ? null : Math.round(l.sum / l.n), max: l.max },
      lastError: this.#lastError,
    };
  }

  #push(item: Item): void {
    let q = this.#stations.get(item.station);
    if (!q) this.#stations.set(item.station, (q = []));
    q.push(item);
    this.#queuedCount++;
    this.#queuedBytes += item.body.length;
  }

  #shift(station: string): void {
    const q = this.#stations.get(station);
    const item = q?.shift();
    if (!q || !item) return;
    if (q.length === 0) this.#stations.delete(station);
    this.#queuedCount--;
    this.#queuedBytes -= item.body.length;
  }

  #pump(): void {
    if (!this.#running) return;
    for (const [station, q] of this.#stations) {
      if (this.#inFlight >= this.#deps.limits.concurrency) return;
      const head = q[0];
      if (!head || this.#busy.has(station)) continue;
      this.#busy.set(station, 'sending');
      this.#inFlight++;
      void this.#send(station, head);
    }
  }

  async #send(station: string, item: Item): Promise<void> {
    const sub = this.#deps.subscription();
    item.attempts++;
    const abort = new AbortController();
    this.#aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), this.#deps.limits.timeoutMs);
    const started = performance.now();
    let outcome: { ok: true } | { ok: false; permanent: boolean; error: string };
    try {
      const to = target(sub.url);
      const res = await fetch(to.url, {
        method: 'POST',
        body: item.body,
        redirect: 'manual',
        signal: abort.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'chargebridge-webhooks',
          [SIGNATURE_HEADER]: sign(sub.secret, item.body),
          [TIMESTAMP_HEADER]: String(Math.floor(Date.now() / 1000)),
          [EVENT_ID_HEADER]: item.eventId,
          [ATTEMPT_HEADER]: String(item.attempts),
          [SUBSCRIPTION_HEADER]: sub.id,
          ...(to.auth !== undefined ? { authorization: to.auth } : {}),
        },
      });
      await res.body?.cancel().catch(() => undefined);
      outcome = res.status >= 200 && res.status < 300
        ? { ok: true }
        : { ok: false, permanent: permanent(res.status), error: `HTTP ${res.status}${permanent(res.status) ? ' (the receiver refused this event; not retried)' : ''}` };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      outcome = { ok: false, permanent: false, error: abort.signal.aborted ? `no answer within ${this.#deps.limits.timeoutMs} ms` : `${e.cause?.code ?? e.name}: ${e.message}` };
    } finally {
      clearTimeout(timer);
      this.#aborts.delete(abort);
      this.#inFlight--;
    }
    if (!this.#running) {
      // Stopped mid-flight: the item stays queued (and in the journal) for the next start.
      this.#busy.delete(station);
      return;
    }
    if (outcome.ok) {
      const ms = performance.now() - started;
      const l = this.#latency;
      l.last = Math.round(ms);
      l.sum += ms;
      l.n++;
      l.max = Math.max(l.max ?? 0, l.last);
      this.#deps.onDelivered(ms / 1000);
      this.#delivered++;
      this.#shift(station);
      this.#journal.removed(item.key);
      this.#busy.delete(station);
    } else {
      this.#failed++;
      this.#lastError = outcome.error;
      item.lastError = outcome.error;
      if (outcome.permanent || item.attempts >= this.#deps.limits.maxAttempts) {
        this.#shift(station);
        this.#bury(item, outcome.error);
        this.#busy.delete(station);
      } else {
        this.#busy.set(station, setTimeout(() => {
          this.#busy.delete(station);
          this.#pump();
        }, this.#backoff(item.attempts)));
      }
    }
    this.#pump();
  }

  /** Full jitter over the upper half: base × 2^(n−1), capped, times 0.5..1. */
  #backoff(attempts: number): number {
    const { retryBaseMs, retryMaxMs } = this.#deps.limits;
    const ceiling = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempts - 1, 30));
    return Math.round(ceiling * (0.5 + 0.5 * (this.#deps.random ?? Math.random)()));
  }

  #bury(item: Item, error: string): void {
    const dead: DeadItem = {
      key: item.key, eventId: item.eventId, station: item.station, body: item.body, enqueuedAt: item.enqueuedAt,
      attempts: item.attempts, lastError: error, deadAt: Date.now(),
    };
    this.#dead.set(dead.key, dead);
    this.#deadBytes += dead.body.length;
    this.#journal.died(dead);
    this.#deps.onDead(dead);
    for (const old of this.#dead.values()) {
      if (this.#deadBytes <= this.#deps.limits.deadBytes) break;
      this.#dead.delete(old.key);
      this.#deadBytes -= old.body.length;
      this.#journal.cleared(old.key);
      this.#deadDropped++;
    }
  }
}
