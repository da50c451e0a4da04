// Wire events: reads the message log (bus 'logged') and link changes in order with it (bus 'loggedLink') and hands
// EventInputs with source 'station' to the sequencer. Station CALLs that need the central system's answer
// (BootNotification, StartTransaction, StopTransaction) wait for it; the rest go out as soon as the CALL is seen.
// Ids derive from message-log ids, so the same frame always gives the same event id.
import type { Logger } from 'pino';
import type { Bus } from './bus.js';
import type { EventDataMap, EventInput, EventType, SampledValue } from './catalogue.js';
import type { LinkStateChange, LogEntry } from './observations.js';
import { nodeScopedId } from './sequencer.js';
import { CALLERROR, parseFrame } from '../ocpp/frames.js';
import { FindingCap, type CappedSecond } from './finding-cap.js';
import { interpretDataTransfer, type VendorOptions } from './vehicle.js';

/** Boot, start and stop calls are under 1 KiB; 64 of these wait per station at most. */
const MAX_PENDING_CALL_BYTES = 64 * 1024;

export interface WireEventsOptions {
  readonly bus: Bus;
  readonly logger: Logger;
  readonly vendor: VendorOptions;
  /** A station CALL still unanswered after this is reported without its answer. */
  readonly answerTimeoutMs?: number;
  /** Cluster mode: this node's id, put in the ids of events made from its message log (whose ids are per node), so
   * that a station moving to another node never has a new event taken for a repeat of an old one. */
  readonly idScope?: () => string;
  /** A station's frame findings sent as events per second at most (finding-cap.ts); default 10. */
  readonly findingsPerSecond?: number;
}

export const DEFAULT_FINDINGS_PER_SECOND = 10;

type HeldAction = 'BootNotification' | 'StartTransaction' | 'StopTransaction';

/** What a call waiting for its answer keeps of its log entry: not its raw text, findings or payload. */
type HeldEntry = Pick<LogEntry, 'id' | 'time' | 'chargeBoxId' | 'messageId'>;

interface PendingCall {
  readonly entry: HeldEntry;
  readonly action: HeldAction;
  /** Only the fields its event is made of (HELD_FIELDS): a StopTransaction's transactionData is not kept. */
  readonly payload: Record<string, unknown>;
  deadline: number;
}

/** What a bootNotification event carries of its call. */
const BOOT_FIELDS = ['chargePointVendor', 'chargePointModel', 'chargePointSerialNumber', 'chargeBoxSerialNumber', 'firmwareVersion', 'iccid', 'imsi', 'meterType', 'meterSerialNumber'] as const;

const HELD_FIELDS: Readonly<Record<HeldAction, readonly string[]>> = {
  BootNotification: BOOT_FIELDS,
  StartTransaction: ['connectorId', 'meterStart', 'idTag', 'timestamp', 'reservationId'],
  StopTransaction: ['transactionId', 'meterStop', 'timestamp', 'idTag', 'reason'],
};

/** The call as it waits: a few fields, so that calls held until their answer do not hold their frames. */
function held(entry: LogEntry, action: HeldAction, p: Record<string, unknown>, deadline: number): PendingCall {
  const payload: Record<string, unknown> = {};
  for (const k of HELD_FIELDS[action]) if (Object.hasOwn(p, k)) payload[k] = p[k];
  const { id, time, chargeBoxId, messageId } = entry;
  return { entry: messageId !== undefined ? { id, time, chargeBoxId, messageId } : { id, time, chargeBoxId }, action, payload, deadline };
}

interface OpenTx {
  readonly meterStart: number;
  readonly idTag: string;
  readonly connectorId: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (o: Obj, k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
const num = (o: Obj, k: string): number | undefined => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
/** "code: description" of a CALLERROR, read from the logged text. */
function callErrorText(answer: LogEntry): string {
  const parsed = parseFrame(answer.raw);
  return parsed.ok && parsed.frame.type === CALLERROR ? `${parsed.frame.code}: ${parsed.frame.description}` : 'CALLERROR from the central system';
}
const isoOr = (v: unknown, fallback: string): string => (typeof v === 'string' && Number.isFinite(Date.parse(v)) ? v : fallback);

/** Copies the optional string fields that are present (exactOptionalPropertyTypes forbids explicit undefined). */
function pick<K extends string>(o: Obj, keys: readonly K[]): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const k of keys) {
    const v = str(o, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function sampledValues(raw: unknown): SampledValue[] {
  if (!Array.isArray(raw)) return [];
  const out: SampledValue[] = [];
  for (const sv of raw) {
    if (!isObj(sv) || typeof sv.value !== 'string') continue;
    out.push({
      value: sv.value,
      measurand: str(sv, 'measurand') ?? 'Energy.Active.Import.Register',
      ...pick(sv, ['unit', 'context', 'format', 'location', 'phase']),
    });
  }
  return out;
}

/** A small FIFO-bounded map, so per-station memory never grows with uptime. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

/** Fault rules that hold a frame and relay it later: it is followed once, when it goes (logged again as forwarded). */
const RELAYED_LATER: ReadonlySet<string> = new Set(['delay', 'stall', 'reorder', 'duplicate']);
const relayedLater = (e: LogEntry): boolean => e.disposition === 'injected' && e.fault !== undefined && RELAYED_LATER.has(e.fault.kind);

export class WireEvents {
  readonly #opts: WireEventsOptions;
  readonly #pending = new Map<string, Map<string, PendingCall>>();
  readonly #openTx = new Map<string, Map<number, OpenTx>>();
  readonly #findingKeys = new Map<string, true>();
  readonly #cap: FindingCap;
  #offs: (() => void)[] = [];
  #sweep: NodeJS.Timeout | undefined;

  constructor(opts: WireEventsOptions) {
    this.#opts = opts;
    this.#cap = new FindingCap(opts.findingsPerSecond ?? DEFAULT_FINDINGS_PER_SECOND);
  }

  /** Frame findings not sent as events because their station was over the cap. */
  get findingsCapped(): number {
    return this.#cap.capped;
  }

  start(): void {
    if (this.#offs.length > 0) return;
    this.#offs = [this.#opts.bus.on('logged', (e) => this.#guard(() => this.onLogged(e))), this.#opts.bus.on('loggedLink', (c) => this.#guard(() => this.onLink(c)))];
    this.#sweep = setInterval(() => {
      const now = Date.now();
      this.#expire(now);
      for (const c of this.#cap.due(now)) this.#capped(c);
    }, 1000);
    this.#sweep.unref();
  }

  stop(): void {
    for (const c of this.#cap.due(Date.now(), true)) this.#capped(c);
    for (const off of this.#offs) off();
    this.#offs = [];
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /** At start: transactions still open from before the restart, so their stop carries connector and energy. */
  seed(open: readonly { readonly chargeBoxId: string; readonly transactionId?: number; readonly connectorId?: number; readonly meterStart: number; readonly idTag: string; readonly source: string }[]): void {
    for (const t of open) {
      if (t.source !== 'station' || t.transactionId === undefined || t.connectorId === undefined) continue;
      let txs = this.#openTx.get(t.chargeBoxId);
      if (!txs) this.#openTx.set(t.chargeBoxId, (txs = new Map()));
      remember(txs, t.transactionId, { meterStart: t.meterStart, idTag: t.idTag, connectorId: t.connectorId }, 64);
    }
  }

  onLogged(entry: LogEntry): void {
    // A mirror upstream's frames (its own answers, its calls) are not the station's real session.
    if (entry.disposition === 'mirror') return;
    this.#findings(entry);
    if (entry.messageType === 'CALL') {
      if (entry.origin === 'station' && entry.leg === 'station' && entry.direction === 'in' && entry.disposition !== 'refused' && !relayedLater(entry)) this.#stationCall(entry);
      return;
    }
    if ((entry.messageType === 'CALLRESULT' || entry.messageType === 'CALLERROR') && entry.origin !== 'station' && entry.messageId !== undefined) {
      const calls = this.#pending.get(entry.chargeBoxId);
      const call = calls?.get(entry.messageId);
      if (!call || !calls) return;
      calls.delete(entry.messageId);
      this.#answered(call, entry);
    }
  }

  onLink(change: LinkStateChange): void {
    const id = change.chargeBoxId;
    switch (change.kind) {
      case 'connected':
        this.#emit({
          id: `link:${change.at}:connected`, type: 'stationConnected', chargeBoxId: id, timestamp: change.at, receivedAt: change.at, source: 'station',
          data: { linkKind: change.linkKind, upstream: change.upstream, ...(change.remoteAddress !== undefined ? { remoteAddress: change.remoteAddress } : {}) },
        });
        return;
      case 'upstream':
        return;
      case 'disconnected': {
        this.#emit({
          id: `link:${change.at}:disconnected`, type: 'stationDisconnected', chargeBoxId: id, timestamp: change.at, receivedAt: change.at, source: 'station',
          data: { linkKind: change.linkKind, code: change.code, reason: change.reason },
        });
        // Answers already on their way to the log still get a moment to arrive.
        const soon = Date.now() + 2000;
        for (const call of this.#pending.get(id)?.values() ?? []) call.deadline = Math.min(call.deadline, soon);
        return;
      }
      case 'callTimeout': {
        const calls = this.#pending.get(id);
        const call = calls?.get(change.messageId);
        if (call && calls) {
          calls.delete(change.messageId);
          this.#unanswered(call, 'the central system did not answer in time');
        }
        return;
      }
    }
  }

  #findings(entry: LogEntry): void {
    entry.findings.forEach((f, i) => {
      // One frame is logged once per leg it crosses; report each finding once.
      const key = `${entry.chargeBoxId}|${entry.origin}|${entry.messageType ?? ''}|${entry.messageId ?? `#${entry.id}`}|${f.rule}|${f.field ?? ''}`;
      if (this.#findingKeys.has(key)) return;
      const { admitted, ended } = this.#cap.admit(entry.chargeBoxId, f.rule, entry.id, entry.time, Date.now());
      if (ended) this.#capped(ended);
      // Only findings sent are remembered: a station over the cap would otherwise keep the map's 4,096 keys
      // churning (each one outliving the young generation). A capped finding logged again on another leg is
      // counted again.
      if (!admitted) return;
      remember(this.#findingKeys, key, true, 4096);
      this.#emit({
        ...this.#base(entry, `log:${entry.id}:f${i}`),
        type: 'finding',
        data: {
          rule: f.rule, message: f.message, logId: entry.id,
          ...(f.field !== undefined ? { field: f.field } : {}),
          ...(entry.action !== undefined ? { action: entry.action } : {}),
          ...(entry.messageId !== undefined ? { messageId: entry.messageId } : {}),
        },
      });
    });
  }

  /** One report for a station's second over the finding cap. */
  #capped(c: CappedSecond): void {
    this.#emit({
      id: nodeScopedId(this.#opts.idScope, `log:${c.lastLogId}:fcap`), chargeBoxId: c.chargeBoxId, timestamp: c.lastTime, receivedAt: c.lastTime, source: 'station',
      type: 'finding',
      data: {
        rule: 'event.findings-capped',
        message: `${c.suppressed} more findings of this station's frames in one second were not sent as events (EVENTS_FINDINGS_PER_SECOND is ${this.#cap.perSecond}); the message log has each with its frame`,
        logId: c.lastLogId, suppressed: c.suppressed, rules: c.rules,
      },
    });
  }

  #stationCall(entry: LogEntry): void {
    const p = entry.payload;
    if (!isObj(p) || entry.action === undefined) return;
    const base = this.#base(entry, `log:${entry.id}`);
    switch (entry.action) {
      case 'BootNotification':
      case 'StartTransaction':
      case 'StopTransaction': {
        if (entry.action === 'StopTransaction') this.#transactionData(entry, p);
        if (entry.messageId === undefined) return;
        // A call waiting for its answer holds its payload: one far larger than any real one is not followed.
        const size = entry.rawBytes ?? entry.raw.length;
        if (size > MAX_PENDING_CALL_BYTES) {
          this.#emit({
            ...base, id: `log:${entry.id}:big`, type: 'finding',
            data: { rule: 'event.too-large', message: `a ${entry.action} of ${size} bytes is not followed to its answer (limit ${MAX_PENDING_CALL_BYTES})`, action: entry.action, logId: entry.id, messageId: entry.messageId },
          });
          return;
        }
        let calls = this.#pending.get(entry.chargeBoxId);
        if (!calls) this.#pending.set(entry.chargeBoxId, (calls = new Map()));
        const dropped = calls.size >= 64 ? calls.keys().next() : undefined;
        if (dropped && !dropped.done) {
          const old = calls.get(dropped.value)!;
          calls.delete(dropped.value);
          this.#unanswered(old, 'too many unanswered calls');
        }
        calls.set(entry.messageId, held(entry, entry.action, p, Date.now() + (this.#opts.answerTimeoutMs ?? 35_000)));
        return;
      }
      case 'Heartbeat':
        this.#emit({ ...base, type: 'heartbeat', data: {} });
        return;
      case 'StatusNotification': {
        const connectorId = num(p, 'connectorId');
        this.#emit({
          ...base,
          ...(connectorId !== undefined ? { connectorId } : {}),
          timestamp: isoOr(p.timestamp, entry.time),
          type: 'status',
          data: { status: str(p, 'status') ?? 'Unknown', errorCode: str(p, 'errorCode') ?? 'NoError', synthetic: false, ...pick(p, ['info', 'vendorId', 'vendorErrorCode']) },
        });
        return;
      }
      case 'MeterValues': {
        const connectorId = num(p, 'connectorId');
        const transactionId = num(p, 'transactionId');
        this.#meterValues(entry, p.meterValue, 'mv', connectorId, transactionId);
        return;
      }
      case 'DataTransfer': {
        const vendorId = str(p, 'vendorId') ?? '';
        const messageId = str(p, 'messageId');
        const meaning = interpretDataTransfer({ vendorId, ...(messageId !== undefined ? { messageId } : {}), data: p.data }, this.#opts.vendor);
        if (meaning.type !== 'none') this.#emit({ ...base, type: meaning.type, data: meaning.data } as EventInput);
        meaning.findings.forEach((f, i) =>
          this.#emit({
            ...base, id: `log:${entry.id}:vd${i}`, type: 'finding',
            data: { ...f, action: 'DataTransfer', logId: entry.id, ...(entry.messageId !== undefined ? { messageId: entry.messageId } : {}) },
          }),
        );
        return;
      }
      case 'FirmwareStatusNotification':
      case 'DiagnosticsStatusNotification': {
        const type: EventType = entry.action === 'FirmwareStatusNotification' ? 'firmwareStatus' : 'diagnosticsStatus';
        this.#emit({ ...base, type, data: { status: str(p, 'status') ?? 'Unknown' } } as EventInput);
        return;
      }
      default:
        return;
    }
  }

  #meterValues(entry: LogEntry, raw: unknown, tag: string, connectorId: number | undefined, transactionId: number | undefined): void {
    if (!Array.isArray(raw)) return;
    raw.forEach((mv, i) => {
      if (!isObj(mv)) return;
      const values = sampledValues(mv.sampledValue);
      if (values.length === 0) return;
      this.#emit({
        ...this.#base(entry, `log:${entry.id}:${tag}${i}`),
        ...(connectorId !== undefined ? { connectorId } : {}),
        ...(transactionId !== undefined ? { transactionId } : {}),
        timestamp: isoOr(mv.timestamp, entry.time),
        type: 'meterValues',
        data: { sampledValues: values },
      });
    });
  }

  /** StopTransaction.transactionData: the samples recorded during the transaction, as meter values. */
  #transactionData(entry: LogEntry, p: Obj): void {
    const transactionId = num(p, 'transactionId');
    const tx = transactionId !== undefined ? this.#openTx.get(entry.chargeBoxId)?.get(transactionId) : undefined;
    this.#meterValues(entry, p.transactionData, 'td', tx?.connectorId, transactionId);
  }

  #answered(call: PendingCall, answer: LogEntry): void {
    const ok = answer.messageType === 'CALLRESULT';
    const res = isObj(answer.payload) ? answer.payload : {};
    const { entry, payload: p } = call;
    const base = this.#base(entry, `log:${entry.id}`);
    if (call.action === 'BootNotification') {
      const status = ok ? str(res, 'status') : undefined;
      this.#emit({ ...base, type: 'bootNotification', data: { ...this.#bootFields(p), ...(status !== undefined ? { registrationStatus: status } : {}) } });
      return;
    }
    if (call.action === 'StartTransaction') {
      const transactionId = ok ? num(res, 'transactionId') : undefined;
      if (!ok) {
        this.#emit({ ...base, id: `log:${entry.id}:nostart`, type: 'finding', data: { rule: 'transactionNotStarted', message: 'StartTransaction was answered with a CALLERROR', action: 'StartTransaction', logId: entry.id, ...(entry.messageId !== undefined ? { messageId: entry.messageId } : {}) } });
        return;
      }
      this.#started(call, transactionId);
      return;
    }
    if (ok) this.#stopped(call);
    else this.#stopFailed(call, callErrorText(answer));
  }

  #unanswered(call: PendingCall, why: string): void {
    const base = this.#base(call.entry, `log:${call.entry.id}`);
    if (call.action === 'BootNotification') this.#emit({ ...base, type: 'bootNotification', data: this.#bootFields(call.payload) });
    else if (call.action === 'StartTransaction') this.#started(call, undefined);
    else this.#stopFailed(call, why);
  }

  #bootFields(p: Obj): EventDataMap['bootNotification'] {
    return pick(p, BOOT_FIELDS);
  }

  #started(call: PendingCall, transactionId: number | undefined): void {
    const { entry, payload: p } = call;
    const connectorId = num(p, 'connectorId');
    const meterStart = num(p, 'meterStart') ?? 0;
    const idTag = str(p, 'idTag') ?? '';
    const startTime = isoOr(p.timestamp, entry.time);
    const reservationId = num(p, 'reservationId');
    if (transactionId !== undefined && connectorId !== undefined) {
      let txs = this.#openTx.get(entry.chargeBoxId);
      if (!txs) this.#openTx.set(entry.chargeBoxId, (txs = new Map()));
      remember(txs, transactionId, { meterStart, idTag, connectorId }, 64);
    }
    this.#emit({
      ...this.#base(entry, `log:${entry.id}`),
      ...(connectorId !== undefined ? { connectorId } : {}),
      ...(transactionId !== undefined ? { transactionId } : {}),
      timestamp: startTime,
      type: 'transactionStarted',
      data: { idTag, meterStart, startTime, ...(reservationId !== undefined ? { reservationId } : {}) },
    });
  }

  #stopped(call: PendingCall): void {
    const { entry, payload: p } = call;
    const transactionId = num(p, 'transactionId');
    const meterStop = num(p, 'meterStop') ?? 0;
    const stopTime = isoOr(p.timestamp, entry.time);
    const tx = transactionId !== undefined ? this.#openTx.get(entry.chargeBoxId)?.get(transactionId) : undefined;
    if (transactionId !== undefined) this.#openTx.get(entry.chargeBoxId)?.delete(transactionId);
    const idTag = str(p, 'idTag') ?? tx?.idTag;
    const reason = str(p, 'reason');
    this.#emit({
      ...this.#base(entry, `log:${entry.id}`),
      ...(tx ? { connectorId: tx.connectorId } : {}),
      ...(transactionId !== undefined ? { transactionId } : {}),
      timestamp: stopTime,
      type: 'transactionStopped',
      data: {
        meterStop, stopTime, actor: 'station',
        ...(reason !== undefined ? { reason } : {}),
        ...(idTag !== undefined ? { idTag } : {}),
        ...(tx ? { energyWh: meterStop - tx.meterStart } : {}),
      },
    });
  }

  #stopFailed(call: PendingCall, reason: string): void {
    const { entry, payload: p } = call;
    const transactionId = num(p, 'transactionId');
    const meterStop = num(p, 'meterStop');
    const stopReason = str(p, 'reason');
    this.#emit({
      ...this.#base(entry, `log:${entry.id}`),
      ...(transactionId !== undefined ? { transactionId } : {}),
      type: 'transactionStopFailed',
      data: { reason, ...(meterStop !== undefined ? { meterStop } : {}), stopTime: isoOr(p.timestamp, entry.time), ...(stopReason !== undefined ? { stopReason } : {}) },
    });
  }

  #expire(now: number): void {
    for (const calls of this.#pending.values()) {
      for (const [messageId, call] of calls) {
        if (call.deadline > now) continue;
        calls.delete(messageId);
        this.#unanswered(call, 'no answer from the central system');
      }
    }
  }

  #base(entry: Pick<LogEntry, 'chargeBoxId' | 'time'>, id: string): { id: string; chargeBoxId: string; timestamp: string; receivedAt: string; source: 'station' } {
    return { id: nodeScopedId(this.#opts.idScope, id), chargeBoxId: entry.chargeBoxId, timestamp: entry.time, receivedAt: entry.time, source: 'station' };
  }

  #emit(input: EventInput): void {
    this.#opts.bus.emit('eventInput', input);
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      // Whatever a station sends, extraction must not throw into the bus (and so into the log writer).
      this.#opts.logger.error({ err }, 'wire event extraction failed');
    }
  }
}
