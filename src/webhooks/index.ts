// Webhooks: an observer on the bus's `event` channel that POSTs matching events to subscribed URLs.
// Events are taken off the bus in a batch on the next turn of the loop, so no emitter waits for JSON or disk.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Router } from 'express';
import type { Bus } from '../events/bus.js';
import { GatewayError } from '../errors.js';
import type { GatewayEvent } from '../events/catalogue.js';
import { checkSubscription, type Subscription, type WebhookLimits, WebhookInputError, WebhookNotFound, WebhookReadOnly } from './config.js';
import { wants } from './filter.js';
import { Outbox, type OutboxStats } from './outbox.js';
import { displayUrl, fingerprint } from './signature.js';
import type { DeadItem } from './journal.js';
import { webhooksRouter } from './routes.js';

export { parseConfigSubscriptions, parseWebhookLimits, WebhookInputError, WebhookNotFound, WebhookReadOnly, type Subscription, type WebhookLimits } from './config.js';

/** A subscription as the API shows it: the secret only as a fingerprint, the URL without its password. */
export interface SubscriptionView {
  readonly id: string;
  readonly url: string;
  readonly secretFingerprint: string;
  readonly types: Subscription['types'];
  readonly stations: Subscription['stations'];
  readonly actions?: readonly string[];
  readonly origin: Subscription['origin'];
  readonly delivery: OutboxStats;
}

export interface DeadLetterView {
  readonly key: number;
  readonly eventId: string;
  readonly chargeBoxId: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly enqueuedAt: string;
  readonly deadAt: string;
  readonly event: unknown;
}

export interface WebhooksDeps {
  readonly bus: Bus;
  readonly dataDir: string;
  readonly limits: WebhookLimits;
  /** From CONFIG_FILE (parseConfigSubscriptions). */
  readonly configured: readonly Subscription[];
  readonly logger: Logger;
  readonly registry: Registry;
  /** Cluster mode (src/cluster/webhook-claims.ts): every node sees every event and has the CONFIG_FILE
   * subscriptions, so each of their events is queued by the one node that claims it (`deliver`, in order). */
  readonly once?: (subscription: string, events: readonly GatewayEvent[], deliver: (e: GatewayEvent) => void) => void;
}

interface Entry {
  sub: Subscription;
  readonly outbox: Outbox;
}

export class Webhooks {
  readonly #deps: WebhooksDeps;
  readonly #dir: string;
  readonly #file: string;
  readonly #entries = new Map<string, Entry>();
  readonly #logger: Logger;
  readonly #latency: Histogram<'subscription'>;
  #batch: GatewayEvent[] = [];
  #off: (() => void) | undefined;
  #storeErrors = 0;

  constructor(deps: WebhooksDeps) {
    this.#deps = deps;
    this.#dir = path.join(deps.dataDir, 'webhooks');
    this.#file = path.join(this.#dir, 'subscriptions.json');
    this.#logger = deps.logger.child({ module: 'webhooks' });
    this.#latency = new Histogram({
      name: 'chargebridge_webhook_delivery_seconds',
      help: 'Time of successful webhook POSTs, per subscription',
      labelNames: ['subscription'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [deps.registry],
    });
    this.#registerGauges(deps.registry);
  }

  start(): void {
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    for (const sub of [...this.#deps.configured, ...this.#loadApiSubscriptions()]) {
      if (this.#entries.has(sub.id)) {
        this.#logger.warn({ subscription: sub.id }, 'webhook subscription id is both in CONFIG_FILE and created over REST: the CONFIG_FILE one wins');
        continue;
      }
      this.#open(sub);
    }
    this.#off = this.#deps.bus.on('event', (e) => {
      // Without subscriptions (the usual bench) an event costs nothing here: no batch, no turn scheduled.
      if (this.#entries.size === 0) return;
      if (this.#batch.push(e) === 1) setImmediate(this.#onTurn);
    });
    if (this.#entries.size > 0) this.#logger.info({ subscriptions: [...this.#entries.keys()] }, 'webhooks started');
  }

  async stop(): Promise<void> {
    this.#off?.();
    this.#drain();
    await Promise.all([...this.#entries.values()].map((e) => e.outbox.stop()));
  }

  list(): SubscriptionView[] {
    return [...this.#entries.values()].map((e) => this.#view(e));
  }

  get(id: string): SubscriptionView {
    return this.#view(this.#entry(id));
  }

  /** Creates a subscription; the answer is the only place its secret is ever shown. */
  create(body: unknown): SubscriptionView & { readonly secret: string } {
    const sub = checkSubscription('body', body, 'api', () => randomUUID());
    if (this.#entries.has(sub.id)) throw new WebhookInputError(`a webhook subscription "${sub.id}" exists already`);
    const entry = this.#open(sub);
    this.#saveApiSubscriptions();
    this.#logger.info({ subscription: sub.id, url: displayUrl(sub.url) }, 'webhook subscription created');
    return { ...this.#view(entry), secret: sub.secret };
  }

  /** Changes url, types, stations, actions or secret; the queue is kept. */
  update(id: string, body: unknown): SubscriptionView {
    const entry = this.#entry(id);
    if (entry.sub.origin === 'config') throw new WebhookReadOnly(`webhook "${id}" comes from CONFIG_FILE: change it there and restart`);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new WebhookInputError('body must be an object');
    if ('id' in body) throw new WebhookInputError('the id of a subscription cannot change');
    const merged = { ...entry.sub, ...body } as Record<string, unknown>;
    delete merged.origin;
    if (merged.actions === null) delete merged.actions;
    entry.sub = checkSubscription('body', merged, 'api', () => id);
    this.#saveApiSubscriptions();
    entry.outbox.retryNow();
    return this.#view(entry);
  }

  async remove(id: string): Promise<void> {
    const entry = this.#entry(id);
    if (entry.sub.origin === 'config') throw new WebhookReadOnly(`webhook "${id}" comes from CONFIG_FILE: remove it there and restart`);
    this.#entries.delete(id);
    this.#saveApiSubscriptions();
    await entry.outbox.destroy();
  }

  deadLetters(id: string): DeadLetterView[] {
    return this.#entry(id).outbox.deadLetters().map(deadView);
  }

  redeliver(id: string, keys?: readonly number[]): number {
    return this.#entry(id).outbox.redeliver(keys);
  }

  clearDead(id: string, keys?: readonly number[]): number {
    return this.#entry(id).outbox.clearDead(keys);
  }

  /** Totals for /api/health. */
  stats(): { subscriptions: number; queued: number; dead: number; dropped: number; storeErrors: number } {
    let queued = 0;
    let dead = 0;
    let dropped = 0;
    for (const e of this.#entries.values()) {
      const s = e.outbox.stats();
      queued += s.queued;
      dead += s.dead;
      dropped += s.dropped + s.deadDropped;
    }
    return { subscriptions: this.#entries.size, queued, dead, dropped, storeErrors: this.#storeErrors };
  }

  router(): Router {
    return webhooksRouter(this);
  }

  readonly #onTurn = (): void => this.#drain();

  #drain(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    const once = this.#deps.once;
    const shared = new Map<Entry, GatewayEvent[]>();
    for (const e of batch) {
      let body: string | undefined;
      for (const entry of this.#entries.values()) {
        if (!wants(entry.sub, e)) continue;
        // Subscriptions over REST live on one node; those of CONFIG_FILE on every node of a cluster.
        if (once && entry.sub.origin === 'config') {
          const list = shared.get(entry);
          if (list) list.push(e);
          else shared.set(entry, [e]);
          continue;
        }
        body ??= JSON.stringify(e);
        entry.outbox.enqueue(e.id, e.chargeBoxId, body);
      }
    }
    for (const [entry, events] of shared) {
      once!(entry.sub.id, events, (e) => {
        if (this.#entries.get(entry.sub.id) === entry) entry.outbox.enqueue(e.id, e.chargeBoxId, JSON.stringify(e));
      });
    }
  }

  #open(sub: Subscription): Entry {
    let dead = 0;
    const entry: Entry = {
      sub,
      outbox: new Outbox({
        id: sub.id,
        subscription: () => entry.sub,
        limits: this.#deps.limits,
        dir: this.#dir,
        onDelivered: (s) => this.#latency.observe({ subscription: entry.sub.id }, s),
        onDead: (d) => {
          // One line for the first and then every 100th, so a receiver refusing everything cannot flood the log.
          if (dead++ % 100 === 0) {
            this.#logger.warn(
              { subscription: sub.id, eventId: d.eventId, chargeBoxId: d.station, attempts: d.attempts, error: d.lastError, deadSoFar: dead },
              `webhook event moved to the dead-letter list (${d.lastError}); see GET /api/webhooks/${sub.id}/dead-letters, fix the receiver, then POST …/dead-letters/redeliver`,
            );
          }
        },
        onStoreError: (err) => {
          if (this.#storeErrors++ % 100 === 0) this.#logger.error({ err, subscription: sub.id, failures: this.#storeErrors }, `webhook queue could not be written to ${this.#dir}: events queued since may be lost on restart; check the disk`);
        },
      }),
    };
    const bad = entry.outbox.load();
    if (bad > 0) this.#logger.warn({ subscription: sub.id, lines: bad }, 'webhook queue: unreadable lines skipped (a write cut short by a crash)');
    this.#entries.set(sub.id, entry);
    entry.outbox.start();
    return entry;
  }

  #entry(id: string): Entry {
    const e = this.#entries.get(id);
    if (!e) throw new WebhookNotFound(`no webhook subscription "${id}"`);
    return e;
  }

  #view(e: Entry): SubscriptionView {
    const { sub } = e;
    return {
      id: sub.id,
      url: displayUrl(sub.url),
      secretFingerprint: fingerprint(sub.secret),
      types: sub.types,
      stations: sub.stations,
      ...(sub.actions ? { actions: sub.actions } : {}),
      origin: sub.origin,
      delivery: e.outbox.stats(),
    };
  }

  #loadApiSubscriptions(): Subscription[] {
    if (!existsSync(this.#file)) return [];
    try {
      const raw = JSON.parse(readFileSync(this.#file, 'utf8')) as unknown;
      if (!Array.isArray(raw)) throw new Error('not a list');
      return raw.map((r, i) => checkSubscription(`${this.#file}[${i}]`, r, 'api', () => randomUUID()));
    } catch (err) {
      throw new GatewayError('GW_ERR_CONFIG', `${this.#file} cannot be read (${(err as Error).message}): fix or remove it (it holds the webhook subscriptions created over REST)`, { file: this.#file });
    }
  }

  /** Secrets are kept here (mode 0600): the gateway must sign with them after a restart. */
  #saveApiSubscriptions(): void {
    const subs = [...this.#entries.values()].filter((e) => e.sub.origin === 'api').map(({ sub }) => ({
      id: sub.id, url: sub.url, secret: sub.secret, types: sub.types, stations: sub.stations, ...(sub.actions ? { actions: sub.actions } : {}),
    }));
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(subs, null, 2), { mode: 0o600 });
    renameSync(tmp, this.#file);
  }

  #registerGauges(registry: Registry): void {
    const gauge = (name: string, help: string, read: (s: OutboxStats) => number): void => {
      const self = this;
      new Gauge({
        name,
        help,
        labelNames: ['subscription'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [id, e] of self.#entries) this.set({ subscription: id }, read(e.outbox.stats()));
        },
      });
    };
    gauge('chargebridge_webhook_delivered_total', 'Events delivered (2xx) since start', (s) => s.delivered);
    gauge('chargebridge_webhook_failed_total', 'Failed delivery attempts since start', (s) => s.failed);
    gauge('chargebridge_webhook_retrying', 'Stations whose next event waits for a retry', (s) => s.retrying);
    gauge('chargebridge_webhook_queued', 'Events waiting for delivery', (s) => s.queued);
    gauge('chargebridge_webhook_queued_bytes', 'Characters of queued bodies (budget WEBHOOKS_QUEUE_BYTES)', (s) => s.queuedBytes);
    gauge('chargebridge_webhook_dead', 'Events in the dead-letter list', (s) => s.dead);
    gauge('chargebridge_webhook_dropped_total', 'Events dropped because the queue budget was full, since start', (s) => s.dropped);
    gauge('chargebridge_webhook_dead_dropped_total', 'Dead letters dropped (oldest) because the dead-letter budget was full', (s) => s.deadDropped);
  }
}

function deadView(d: DeadItem): DeadLetterView {
  let event: unknown;
  try {
    event = JSON.parse(d.body);
  } catch {
    event = d.body;
  }
  return {
    key: d.key, eventId: d.eventId, chargeBoxId: d.station, attempts: d.attempts, lastError: d.lastError,
    enqueuedAt: new Date(d.enqueuedAt).toISOString(), deadAt: new Date(d.deadAt).toISOString(), event,
  };
}
