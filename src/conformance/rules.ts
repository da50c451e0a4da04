// Passive conformance rules beyond the schema, per station, fed with every logged frame in order. Each rule has a
// stable id and cites the behaviour of OCPP 1.6 it checks. State is small and bounded per station.
import type { LogEntry } from '../events/observations.js';
import { HeartbeatRule } from './heartbeat.js';

export const RULES = {
  'boot.notAccepted': 'OCPP 1.6 §4.2: while the boot is Pending or Rejected the Charge Point sends nothing but BootNotification',
  'meterValues.closedTransaction': 'OCPP 1.6 §4.7: MeterValues with a transactionId belong to a transaction that is still open',
  'stopTransaction.meterStopBelowStart': 'OCPP 1.6 §4.10/§6.46: meterStop is not below the meterStart of the same transaction',
  'timestamp.skew': "OCPP 1.6 §4.2 (currentTime): station timestamps stay close to the central system's clock",
  'heartbeat.interval': 'OCPP 1.6 §4.6/§9.1: Heartbeat at the interval the central system gave (BootNotification.conf, ChangeConfiguration HeartbeatInterval), not far too early or too late',
} as const;
export type RuleId = keyof typeof RULES;

export interface RuleHit {
  readonly rule: RuleId;
  readonly message: string;
}

const TX_MEMORY = 64;
const PENDING_MEMORY = 32;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Map that forgets its oldest entries beyond `max`. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as K);
}

export class StationRules {
  /** The last boot answer on this connection was Pending / Rejected, and no Accepted came since. */
  #bootRefused: string | undefined;
  readonly #bootCalls = new Map<string, true>();
  readonly #startCalls = new Map<string, number | undefined>();
  readonly #open = new Map<number, number | undefined>();
  readonly #closed = new Map<number, true>();
  readonly #heartbeat: HeartbeatRule;

  constructor(
    private readonly maxSkewMs: number,
    heartbeatSlackS = 5,
  ) {
    this.#heartbeat = new HeartbeatRule({ slackS: heartbeatSlackS });
  }

  /** A new connection: the boot state starts over; transactions outlive connections (offline queues). */
  connected(): void {
    this.#bootRefused = undefined;
    this.#bootCalls.clear();
    this.#heartbeat.connected();
  }

  /** `timeScale`: station seconds per gateway second (a simulated station on a fast clock). */
  check(e: LogEntry, nowMs: number, timeScale = 1): RuleHit[] {
    const hits: RuleHit[] = [];
    // A mirror's leg says nothing about the station or the primary central system.
    if (e.disposition === 'mirror') return hits;
    const atS = (e.atUs / 1e6) * timeScale;
    const p = isObject(e.payload) ? e.payload : {};
    if (e.messageType === 'CALL' && e.action && e.messageId) {
      if (e.leg === 'station' && e.direction === 'in') {
        // A frame a fault rule acted on still left the station: it counts for the heartbeat's timing.
        if (e.disposition === 'forwarded' || e.disposition === 'injected') {
          const late = this.#heartbeat.stationCall(e.action, e.messageId, atS);
          if (late) hits.push({ rule: 'heartbeat.interval', message: late });
        }
        if (e.disposition === 'forwarded') this.#stationCall(e.action, e.messageId, e.payload, nowMs, hits);
      } else if ((e.leg === 'upstream' && e.direction === 'in') || (e.leg === 'station' && e.direction === 'out' && e.disposition === 'own')) {
        this.#heartbeat.callToStation(e.messageId, e.action, p);
      }
    } else if (e.messageId && (e.messageType === 'CALLRESULT' || e.messageType === 'CALLERROR')) {
      if (e.leg === 'upstream' && e.direction === 'in') {
        this.#heartbeat.callAnswered(e.messageId);
        if (e.messageType === 'CALLRESULT') this.#answer(e.messageId, e.payload, atS);
      } else if (e.leg === 'station' && e.direction === 'in' && e.messageType === 'CALLRESULT') {
        this.#heartbeat.stationAnswered(e.messageId, e.payload);
      }
    }
    return hits;
  }

  #stationCall(action: string, messageId: string, payload: unknown, nowMs: number, hits: RuleHit[]): void {
    const p = isObject(payload) ? payload : {};
    if (action !== 'BootNotification' && this.#bootRefused) {
      hits.push({ rule: 'boot.notAccepted', message: `${action} sent while the boot is ${this.#bootRefused}` });
    }
    switch (action) {
      case 'BootNotification':
        remember(this.#bootCalls, messageId, true, PENDING_MEMORY);
        break;
      case 'StartTransaction':
        remember(this.#startCalls, messageId, typeof p.meterStart === 'number' ? p.meterStart : undefined, PENDING_MEMORY);
        break;
      case 'MeterValues':
        if (typeof p.transactionId === 'number' && this.#closed.has(p.transactionId)) {
          hits.push({ rule: 'meterValues.closedTransaction', message: `MeterValues for transaction ${p.transactionId}, which its StopTransaction already closed` });
        }
        break;
      case 'StopTransaction':
        if (typeof p.transactionId === 'number') {
          const meterStart = this.#open.get(p.transactionId);
          if (typeof meterStart === 'number' && typeof p.meterStop === 'number' && p.meterStop < meterStart) {
            hits.push({ rule: 'stopTransaction.meterStopBelowStart', message: `meterStop ${p.meterStop} < meterStart ${meterStart} of transaction ${p.transactionId}` });
          }
          this.#open.delete(p.transactionId);
          remember(this.#closed, p.transactionId, true, TX_MEMORY);
        }
        break;
    }
    this.#timestamps(action, p, nowMs, hits);
  }

  #timestamps(action: string, p: Record<string, unknown>, nowMs: number, hits: RuleHit[]): void {
    const stamps: string[] = [];
    if (typeof p.timestamp === 'string') stamps.push(p.timestamp);
    if (action === 'MeterValues' && Array.isArray(p.meterValue)) {
      for (const mv of p.meterValue) if (isObject(mv) && typeof mv.timestamp === 'string') stamps.push(mv.timestamp);
    }
    for (const ts of stamps) {
      const t = Date.parse(ts);
      if (Number.isNaN(t)) continue; // the schema check reports it
      const ahead = t - nowMs;
      // Transaction messages may be replayed long after they happened (offline queue): only the future is wrong.
      // A status is sent when it happens, so it may not be old either.
      if (ahead > this.maxSkewMs || (action === 'StatusNotification' && -ahead > this.maxSkewMs)) {
        hits.push({ rule: 'timestamp.skew', message: `${action} timestamp ${ts} is ${Math.round(Math.abs(ahead) / 1000)} s ${ahead > 0 ? 'ahead of' : 'behind'} the gateway's clock` });
        break;
      }
    }
  }

  #answer(messageId: string, payload: unknown, atS: number): void {
    const p = isObject(payload) ? payload : {};
    if (this.#bootCalls.delete(messageId)) {
      this.#bootRefused = p.status === 'Accepted' ? undefined : typeof p.status === 'string' ? p.status : 'unanswered';
      this.#heartbeat.bootAnswered(p, atS);
      return;
    }
    if (this.#startCalls.has(messageId)) {
      const meterStart = this.#startCalls.get(messageId);
      this.#startCalls.delete(messageId);
      if (typeof p.transactionId === 'number') remember(this.#open, p.transactionId, meterStart, TX_MEMORY);
    }
  }
}
