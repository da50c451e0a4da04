// A simulated station's transactions, run as MicroOcpp runs them: a station-local number at the start, the central
// system's transactionId once StartTransaction is answered, the messages a session produces (StartTransaction,
// periodic MeterValues, StopTransaction with its reason, the SessionSummary DataTransfer), and what is kept on
// disk so that a power loss, or a crash, closes an open session as PowerLoss after the restart.
import { autopilotSettings } from './autopilot.js';
import type { ChargerLimits } from './battery.js';
import type { Connector } from './connector.js';
import type { Defects } from './defects.js';
import type { KeyStore } from './keys.js';
import type { Outbox } from './outbox.js';
import type { OpenTransaction, Persistable, PersistedQueue, QueuedMessage } from './queue-store.js';
import type { SimStationSpec } from './spec.js';
import { iso, isRecord, type StationCounters, type StationEnv } from './station-env.js';

/** What transactions need from their station (the station itself: no per-station closures). */
export interface TransactionsHost extends Persistable {
  readonly spec: SimStationSpec;
  readonly keys: KeyStore;
  readonly counters: StationCounters;
  readonly chargerLimits: ChargerLimits;
  readonly defects: Defects | undefined;
  /** The connectors, without connector 0. */
  plugs(): Connector[];
  /** Re-derive the connector's status and report a change. */
  refresh(c: Connector): void;
}

export type SavedTransactions = Pick<PersistedQueue, 'txCounter' | 'txIds' | 'open'>;

export class Transactions {
  #counter = 0;
  /** Station-local number → the central system's transactionId. */
  readonly #ids = new Map<number, number>();

  constructor(
    private readonly host: TransactionsHost,
    private readonly outbox: Outbox,
    private readonly env: StationEnv,
  ) {}

  idOf(local: number): number | undefined {
    return this.#ids.get(local);
  }

  start(c: Connector, idTag: string, now: number): void {
    const h = this.host;
    if (h.spec.energyRegister !== 'lifetime') c.energyWh = 0;
    const local = ++this.#counter;
    c.tx = { local, id: undefined, idTag, startedAt: now, meterStart: c.registerWh() };
    c.finishing = false;
    c.vehicleInfoDue = Infinity;
    c.lastStepAt = now;
    const interval = h.keys.int('MeterValueSampleInterval');
    c.meterDue = interval > 0 ? now + interval * 1000 : Infinity;
    h.counters.txStarted++;
    // A session on a reserved connector ends the reservation; the holder's own session names it (§5.13).
    const reservationId = c.reservation?.idTag === idTag ? c.reservation.id : undefined;
    c.reservation = undefined;
    this.outbox.enqueueTx('start', local, 'StartTransaction', { connectorId: c.id, idTag, meterStart: c.tx.meterStart, ...(reservationId !== undefined ? { reservationId } : {}), timestamp: iso(now) });
    h.refresh(c);
  }

  /** `unplugged`: the cable left with the session (no Finishing). */
  stop(c: Connector, reason: string, now: number, idTag?: string, unplugged = false): void {
    const h = this.host;
    const tx = c.tx;
    if (!tx) return;
    c.advance(now, h.chargerLimits);
    const meterStop = c.registerWh();
    // No longer open when the stop is written: a restart must not close it a second time as PowerLoss.
    c.tx = undefined;
    this.outbox.enqueueTx('stop', tx.local, 'StopTransaction', {
      ...(idTag !== undefined ? { idTag } : {}),
      meterStop,
      timestamp: iso(now),
      reason,
    });
    const delivered = Math.max(0, c.energyWh - tx.meterStart);
    const summary = {
      finalSoc: Math.round((c.vehicle?.battery.soc ?? 0) * 100) / 100,
      energyDelivered: Math.round(delivered * 100) / 100,
      durationMinutes: Math.round(((now - tx.startedAt) / 60_000) * 100) / 100,
    };
    this.outbox.enqueueTx('summary', tx.local, 'DataTransfer', { vendorId: 'RivotMotors', messageId: 'SessionSummary', data: JSON.stringify(summary) });
    h.counters.txStopped++;
    h.counters.energyWh += delivered;
    c.meterDue = Infinity;
    if (unplugged) c.vehicle = undefined;
    c.finishing = c.vehicle !== undefined;
    if (c.inoperativeScheduled) {
      c.inoperative = true;
      c.inoperativeScheduled = false;
    }
    if (c.vehicle && c.autoPhase !== 'idle') c.departAt = Math.min(c.departAt, now + autopilotSettings(h.spec).dwellS * 1000);
    h.refresh(c);
  }

  /** One MeterValues with the measurands in MeterValuesSampledData; periodic ones in a session are transaction messages. */
  sampleMeter(c: Connector, now: number, context: 'Sample.Periodic' | 'Trigger'): void {
    const h = this.host;
    const sampled = c.sample(h.keys.list('MeterValuesSampledData'), 0).map((s) => ({ ...s, context }));
    if (sampled.length === 0) return;
    const payload = { connectorId: c.id, meterValue: [{ timestamp: iso(now), sampledValue: sampled }] };
    if (c.tx && context === 'Sample.Periodic') {
      this.outbox.enqueueTx('meter', c.tx.local, 'MeterValues', payload);
    } else {
      const withId = c.tx?.id !== undefined && !h.defects?.has('meterValuesWithoutTransactionId');
      this.outbox.enqueue('MeterValues', withId ? { ...payload, transactionId: c.tx!.id } : payload);
    }
  }

  /** The central system answered a transaction message. */
  confirmed(m: QueuedMessage, conf: Record<string, unknown>): void {
    const h = this.host;
    if (m.kind === 'start') {
      const transactionId = typeof conf.transactionId === 'number' ? conf.transactionId : undefined;
      const c = h.plugs().find((x) => x.tx?.local === m.tx);
      if (transactionId === undefined) return;
      this.#ids.set(m.tx, transactionId);
      if (c?.tx) c.tx.id = transactionId;
      this.env.store.writeNow(h); // the id is on disk before anything refers to it
      const status = isRecord(conf.idTagInfo) ? conf.idTagInfo.status : undefined;
      if (c?.tx && status !== 'Accepted' && h.keys.bool('StopTransactionOnInvalidId')) this.stop(c, 'DeAuthorized', this.env.clock.now());
    } else if (m.kind === 'summary') {
      this.#ids.delete(m.tx);
    }
  }

  /** What to persist beside the queued messages: every open session, and the ids they or the messages refer to. */
  saved(messages: readonly QueuedMessage[]): SavedTransactions {
    const open: OpenTransaction[] = this.host.plugs().flatMap((c) =>
      c.tx ? [{ tx: c.tx.local, connectorId: c.id, idTag: c.tx.idTag, meterStart: c.tx.meterStart, startedAt: c.tx.startedAt, lastMeterWh: c.registerWh() }] : [],
    );
    const referenced = new Set([...messages.map((m) => m.tx), ...open.map((o) => o.tx)]);
    return { txCounter: this.#counter, txIds: [...this.#ids].filter(([local]) => referenced.has(local)), open };
  }

  /**
   * After a restart (the queued messages are back in the outbox): sessions open when the power went, or the
   * process died, are closed now with the last register reading on disk, as after a power loss. One whose id never
   * came is closed after its StartTransaction, still queued; one whose StartTransaction was given up is unknown to
   * the central system and needs no stop.
   */
  restore(saved: PersistedQueue, now: number): void {
    this.#counter = saved.txCounter;
    for (const [local, id] of saved.txIds) this.#ids.set(local, id);
    for (const o of saved.open) {
      const queued = (kind: QueuedMessage['kind']): boolean => saved.messages.some((m) => m.tx === o.tx && m.kind === kind);
      if (queued('stop') || (!this.#ids.has(o.tx) && !queued('start'))) continue;
      this.outbox.enqueueTx('stop', o.tx, 'StopTransaction', { meterStop: o.lastMeterWh, timestamp: iso(now), reason: 'PowerLoss' });
      this.host.counters.txStopped++;
    }
  }
}
