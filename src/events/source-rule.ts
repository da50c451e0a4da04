// Which producer owns which event type, so one fact never reaches clients twice.
//
// With the binlog configured, SteVe's tables are the truth for status, meter values, transactions, heartbeat
// and boot: the wire copies of those are suppressed. Vendor DataTransfer exists on the wire and, with
// flashCharge's patched SteVe, in the data_transfer table; both sides are accepted and each fact is let through
// once (the first to arrive wins; its twin from the other side, same station and content within a short time
// window, is dropped). Without the binlog, everything comes from the wire and SteVe events are dropped.
import { createHash } from 'node:crypto';
import type { EventInput, EventType, GatewayEvent } from './catalogue.js';
import { DEFAULT_MAX_DATA_BYTES, interpretDataTransfer, type VendorOptions } from './vehicle.js';

export const BINLOG_OWNED: ReadonlySet<EventType> = new Set<EventType>([
  'status', 'meterValues', 'transactionStarted', 'transactionStopped', 'transactionStopFailed', 'heartbeat', 'bootNotification',
]);
/** Events that come from a vendor DataTransfer, on either side. */
const VENDOR_TYPES: ReadonlySet<EventType> = new Set<EventType>(['preChargeData', 'sessionSummary', 'bmsAlert', 'vendorEvent', 'dataTransfer']);

export interface SourceRuleOptions extends VendorOptions {
  readonly binlogConfigured: boolean;
  /** Wire and table copies of one DataTransfer are twins when their timestamps differ by at most this. */
  readonly twinWindowMs?: number;
  /** Unpaired vendor events remembered per station. */
  readonly maxPending?: number;
}

export interface SourceRuleCounters {
  suppressed: number;
  twinsDropped: number;
}

interface Unpaired {
  readonly source: EventInput['source'];
  readonly at: number;
}

/** The rule is a filter with a little memory: apply() returns what may pass (0, 1 or 2 events). */
export class SourceRule {
  readonly counters: SourceRuleCounters = { suppressed: 0, twinsDropped: 0 };
  readonly #opts: Required<Omit<SourceRuleOptions, 'registry'>> & Pick<SourceRuleOptions, 'registry'>;
  /** chargeBoxId → content key → unpaired copies, oldest first. */
  readonly #unpaired = new Map<string, Map<string, Unpaired[]>>();

  constructor(opts: SourceRuleOptions) {
    this.#opts = { twinWindowMs: 10_000, maxPending: 512, maxDataBytes: DEFAULT_MAX_DATA_BYTES, ...opts };
  }

  get binlogConfigured(): boolean {
    return this.#opts.binlogConfigured;
  }

  /** Which source owns this type in the current mode ('both' = vendor data, paired). */
  owner(type: EventType): 'station' | 'steve' | 'both' {
    if (!this.#opts.binlogConfigured) return 'station';
    if (type === 'resync' || BINLOG_OWNED.has(type)) return 'steve';
    if (VENDOR_TYPES.has(type) || type === 'finding') return 'both';
    return 'station';
  }

  apply(input: EventInput): EventInput[] {
    const owner = this.owner(input.type);
    if (owner !== 'both') {
      if (input.source !== owner) {
        this.counters.suppressed++;
        return [];
      }
      return [input];
    }
    const expanded = input.source === 'steve' && input.type === 'dataTransfer' ? this.#interpretRow(input as EventInput<'dataTransfer'>) : [input];
    return expanded.filter((e) => this.#firstOfTwins(e));
  }

  /** Remembers already-delivered vendor events (restored history), so a late twin is still recognised. */
  seed(events: readonly GatewayEvent[]): void {
    for (const e of events) if (this.owner(e.type) === 'both') this.#firstOfTwins(e);
  }

  /** A data_transfer row as the binlog reader hands it over: read it the same way the wire extractor does. */
  #interpretRow(row: EventInput<'dataTransfer'>): EventInput[] {
    const { vendorId, messageId, data } = row.data;
    const meaning = interpretDataTransfer({ vendorId, ...(messageId !== undefined ? { messageId } : {}), data }, this.#opts);
    const base = { id: row.id, chargeBoxId: row.chargeBoxId, timestamp: row.timestamp, receivedAt: row.receivedAt, source: row.source };
    const out: EventInput[] = [];
    if (meaning.type !== 'none') out.push({ ...base, type: meaning.type, data: meaning.data } as EventInput);
    meaning.findings.forEach((f, i) =>
      out.push({ ...base, id: `${row.id}:finding${i}`, type: 'finding', data: { ...f, action: 'DataTransfer' } }),
    );
    return out;
  }

  #firstOfTwins(e: EventInput): boolean {
    if (e.type === 'finding' && e.data.action !== 'DataTransfer') return true;
    const at = Date.parse(e.timestamp);
    if (!Number.isFinite(at)) return true;
    const key = contentKey(e);
    let perStation = this.#unpaired.get(e.chargeBoxId);
    if (!perStation) this.#unpaired.set(e.chargeBoxId, (perStation = new Map()));
    const list = perStation.get(key) ?? [];
    let best = -1;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (c.source === e.source || Math.abs(c.at - at) > this.#opts.twinWindowMs) continue;
      if (best < 0 || Math.abs(c.at - at) < Math.abs(list[best]!.at - at)) best = i;
    }
    if (best >= 0) {
      list.splice(best, 1);
      if (list.length === 0) perStation.delete(key);
      this.counters.twinsDropped++;
      return false;
    }
    list.push({ source: e.source, at });
    perStation.set(key, list);
    this.#prune(perStation, at);
    return true;
  }

  /** Bounded memory: forget copies far outside the window, then the oldest keys beyond maxPending. */
  #prune(perStation: Map<string, Unpaired[]>, now: number): void {
    let total = 0;
    for (const [key, list] of perStation) {
      const kept = list.filter((c) => now - c.at <= 6 * this.#opts.twinWindowMs);
      if (kept.length === 0) perStation.delete(key);
      else {
        if (kept.length !== list.length) perStation.set(key, kept);
        total += kept.length;
      }
    }
    for (const key of perStation.keys()) {
      if (total <= this.#opts.maxPending) break;
      total -= perStation.get(key)!.length;
      perStation.delete(key);
    }
  }
}

/**
 * Same type and content, independent of key order; finding ids of the log are not content. Kept as a digest, so
 * the remembered keys cost the same whatever the size of the vendor data.
 */
function contentKey(e: EventInput): string {
  if (e.type === 'finding') {
    const { rule, field, message, action } = e.data;
    return digest(`finding|${canonical({ rule, field, message, action })}`);
  }
  return digest(`${e.type}|${e.connectorId ?? ''}|${canonical(e.data)}`);
}

const digest = (text: string): string => createHash('sha256').update(text).digest('base64');

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}
