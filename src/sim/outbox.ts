// A simulated station's outgoing calls, sent the way MicroOcpp sends them: one call in flight with a timeout;
// transaction messages persisted (a start or stop written ahead, before it is sent), retried, and replayed in
// order after an offline period, with the transactionId filled in once known; other messages only while online.
import { encodeCall } from '../ocpp/frames.js';
import type { Defects } from './defects.js';
import type { KeyStore } from './keys.js';
import type { Persistable, QueuedMessage } from './queue-store.js';
import type { StationCounters, StationEnv } from './station-env.js';

export type OnResult = (conf: Record<string, unknown> | undefined) => void;

interface OutEntry {
  readonly action: string;
  readonly payload: Record<string, unknown>;
  /** Set for transaction messages: persisted, retried, replayed after offline periods. */
  readonly persisted: QueuedMessage | undefined;
  notBefore: number;
  readonly onResult?: OnResult;
  /** Queued while the link was down, by a station with the forgetsOfflineQueue defect. */
  readonly offline?: true;
  /** A transaction message's payload as JSON, in bytes (limits.queueBytes); 0 for the others. */
  readonly bytes: number;
}

const jsonBytes = (payload: Record<string, unknown>): number => Buffer.byteLength(JSON.stringify(payload));

const NON_TX_PREBOOT_LIMIT = 10; // MicroOcpp's memory-only queue before BootNotification is accepted

/** What the outbox needs from its station (the station itself: no per-station closures, at 10,000 stations). */
export interface OutboxHost extends Persistable {
  readonly keys: KeyStore;
  readonly counters: StationCounters;
  /** Deliberate firmware defects (undefined: none). */
  readonly defects: Defects | undefined;
  /** A connection is open. */
  linkOpen(): boolean;
  bootAccepted(): boolean;
  /** Hands one message to the connection; false when it could not. */
  sendFrame(text: string): boolean;
  /** A send failed: the connection is gone. */
  linkFailed(): void;
  /** The central system's id of a station-local transaction, once it is known. */
  transactionId(localTx: number): number | undefined;
  /** A transaction message was answered. */
  txConfirmed(m: QueuedMessage, conf: Record<string, unknown>): void;
  /** Everything queued has been sent and answered. */
  outboxDrained(now: number): void;
  /** The next wake-up may have changed. */
  scheduleWake(): void;
}

export class Outbox {
  #queue: OutEntry[] = [];
  #inFlight: { id: string; entry: OutEntry; deadline: number } | undefined;
  #bootTag = '';
  #msgSeq = 0;

  constructor(
    private readonly env: StationEnv,
    private readonly host: OutboxHost,
  ) {}

  get length(): number {
    return this.#queue.length;
  }

  get holdsTransactionMessages(): boolean {
    return this.#queue.some((e) => e.persisted);
  }

  /** When the outbox needs the station awake: the in-flight call's deadline, or the head's retry time. */
  nextWake(now: number): number {
    const head = this.#queue[0];
    const retry = head && head.notBefore > now && !this.#inFlight ? head.notBefore : Infinity;
    return Math.min(this.#inFlight?.deadline ?? Infinity, retry);
  }

  /** Message ids restart at every boot, behind a random tag (MicroOcpp's ids are just as predictable). */
  newBoot(): void {
    this.#bootTag = `${Math.floor(this.env.random() * 36 ** 4).toString(36)}-`;
    this.#msgSeq = 0;
  }

  enqueue(action: string, payload: Record<string, unknown>, persisted?: QueuedMessage, onResult?: OnResult): void {
    if (!persisted) {
      if (!this.host.linkOpen()) {
        this.host.counters.dropped++;
        return;
      }
      if (!this.host.bootAccepted() && action !== 'BootNotification' && this.#queue.filter((e) => !e.persisted).length >= NON_TX_PREBOOT_LIMIT) {
        this.host.counters.dropped++;
        return;
      }
    }
    const offline = this.host.defects?.has('forgetsOfflineQueue') && persisted !== undefined && !this.host.linkOpen();
    this.#queue.push({ action, payload, persisted, notBefore: 0, bytes: persisted ? jsonBytes(payload) : 0, ...(onResult ? { onResult } : {}), ...(offline ? { offline } : {}) });
    if (persisted) {
      this.#bound();
      // Write-ahead, as the firmware keeps transactions on flash: a start or stop is on disk before it is sent.
      if (persisted.kind === 'start' || persisted.kind === 'stop') this.env.store.writeNow(this.host);
      else this.env.store.markDirty(this.host);
    }
    this.pump();
  }

  enqueueTx(kind: QueuedMessage['kind'], tx: number, action: QueuedMessage['action'], payload: Record<string, unknown>): void {
    this.enqueue(action, payload, { kind, tx, action, payload, attempts: 0 });
  }

  /** BootNotification goes ahead of everything (once), possibly not before a given time. */
  bootFirst(payload: Record<string, unknown>, onResult: OnResult, notBefore = 0): void {
    this.#queue = this.#queue.filter((e) => e.action !== 'BootNotification');
    this.#queue.unshift({ action: 'BootNotification', payload, persisted: undefined, notBefore, onResult, bytes: 0 });
  }

  /** What `fn` enqueues goes ahead of what is already queued (the statuses right after a boot, before a replay). */
  ahead(fn: () => void): void {
    const queued = this.#queue;
    this.#queue = [];
    fn();
    this.#queue.push(...queued);
  }

  /** Sends the next message when nothing is in flight. */
  pump(): void {
    if (!this.host.linkOpen() || this.#inFlight) return;
    const now = this.env.clock.now();
    while (this.#queue.length > 0) {
      const entry = this.#queue[0]!;
      if (!this.host.bootAccepted() && entry.action !== 'BootNotification') return;
      if (entry.notBefore > now) return;
      let payload = entry.payload;
      const p = entry.persisted;
      if (p && p.kind !== 'start' && p.kind !== 'summary') {
        const transactionId = this.host.transactionId(p.tx);
        if (transactionId === undefined) {
          // Its StartTransaction was given up: nothing can refer to that transaction any more.
          this.#queue.shift();
          this.host.counters.dropped++;
          this.env.store.markDirty(this.host);
          continue;
        }
        if (p.kind !== 'meter' || !this.host.defects?.has('meterValuesWithoutTransactionId')) payload = { ...payload, transactionId };
      }
      const id = `${this.#bootTag}${++this.#msgSeq}`;
      this.#inFlight = { id, entry, deadline: now + this.env.limits.callTimeoutMs };
      if (!this.host.sendFrame(encodeCall(id, entry.action, payload))) {
        this.#inFlight = undefined;
        this.host.linkFailed();
      }
      return;
    }
    this.host.outboxDrained(now);
  }

  /** An answer from the central system (its CALLRESULT payload, or a CALLERROR); one to a call given up is ignored. */
  answered(id: string, answer: Record<string, unknown> | 'error'): void {
    if (this.#inFlight?.id !== id) return;
    if (answer === 'error') this.#complete(undefined, 'error');
    else this.#complete(answer, undefined);
  }

  /** Gives up the call in flight once its deadline has passed. */
  expire(now: number): void {
    if (this.#inFlight && this.#inFlight.deadline <= now) this.#complete(undefined, 'timeout');
  }

  /** The link is gone: the call in flight is forgotten, transaction messages stay, the rest is dropped. */
  linkLost(): void {
    this.#inFlight = undefined;
    const before = this.#queue.length;
    this.#queue = this.#queue.filter((e) => e.persisted !== undefined);
    this.host.counters.dropped += before - this.#queue.length;
  }

  /** Defect forgetsOfflineQueue, on reconnect: what was queued while the link was down is lost. */
  forgetQueuedOffline(): void {
    const before = this.#queue.length;
    this.#queue = this.#queue.filter((e) => !e.offline);
    if (this.#queue.length === before) return;
    this.host.counters.dropped += before - this.#queue.length;
    this.env.store.markDirty(this.host);
  }

  /** The transaction messages, in order, as they are persisted. */
  persisted(): QueuedMessage[] {
    return this.#queue.flatMap((e) => (e.persisted ? [e.persisted] : []));
  }

  /** Transaction messages read back after a restart. */
  restore(messages: readonly QueuedMessage[]): void {
    for (const m of messages) this.#queue.push({ action: m.action, payload: m.payload, persisted: { ...m }, notBefore: 0, bytes: jsonBytes(m.payload) });
  }

  /**
   * Keeps the persisted part of the queue within its count and bytes: periodic meter values go first, as on
   * MicroOcpp. Drops for bytes are also counted apart (counters.droppedForBytes).
   */
  #bound(): void {
    const { queueLimit, queueBytes } = this.env.limits;
    let persisted = 0;
    let bytes = 0;
    for (const e of this.#queue) {
      if (!e.persisted) continue;
      persisted++;
      bytes += e.bytes;
    }
    while (persisted > queueLimit || bytes > queueBytes) {
      const inFlight = this.#inFlight?.entry;
      let victim = this.#queue.findIndex((e) => e !== inFlight && e.persisted?.kind === 'meter');
      if (victim < 0) victim = this.#queue.findIndex((e) => e !== inFlight && e.persisted !== undefined);
      if (victim < 0) return;
      const [gone] = this.#queue.splice(victim, 1);
      const counters = this.host.counters;
      counters.dropped++;
      if (persisted <= queueLimit) counters.droppedForBytes = (counters.droppedForBytes ?? 0) + 1;
      persisted--;
      bytes -= gone?.bytes ?? 0;
    }
  }

  #complete(conf: Record<string, unknown> | undefined, failure: 'error' | 'timeout' | undefined): void {
    const flight = this.#inFlight;
    if (!flight) return;
    this.#inFlight = undefined;
    const { entry } = flight;
    const now = this.env.clock.now();
    if (failure) {
      if (failure === 'timeout') this.host.counters.timeouts++;
      else this.host.counters.callErrors++;
      const p = entry.persisted;
      if (p) {
        p.attempts++;
        if (p.attempts < this.host.keys.int('TransactionMessageAttempts')) {
          entry.notBefore = now + this.host.keys.int('TransactionMessageRetryInterval') * 1000 * p.attempts;
          this.env.store.markDirty(this.host);
          this.pump();
          this.host.scheduleWake();
          return;
        }
        this.host.counters.dropped++;
        this.env.logger.warn({ station: this.host.id, action: entry.action }, 'sim: transaction message given up');
      }
    }
    if (this.#queue[0] === entry) this.#queue.shift();
    if (entry.persisted) {
      if (!failure) this.host.txConfirmed(entry.persisted, conf ?? {});
      this.env.store.markDirty(this.host);
    }
    entry.onResult?.(failure ? undefined : conf);
    this.pump();
    this.host.scheduleWake();
  }
}
