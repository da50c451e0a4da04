// Row changes of one binlog transaction → catalogue events. Events are buffered until the commit, so a
// transaction is handed on whole or not at all; ids come from the transaction's coordinates and the row index.
import type { RowData, UpdateRowData } from '@vlasky/zongji';
import type { EventInput, Mutable, SampledValue } from '../events/catalogue.js';
import { sampledValue } from './meter-row.js';
import { connectorPkOf } from './schema.js';
import type { StatementKind } from './statements.js';
import { transactionRef, type ConnectorRef, type Topology } from './topology.js';
import { int, isoTime, meter, parseData, text, textOr } from './values.js';

export { sampledValue } from './meter-row.js';
export { classifyStatement, isBootUpdate, type StatementKind } from './statements.js';

export type RowOp = 'insert' | 'update' | 'delete';

export interface RowChange {
  readonly table: string;
  readonly op: RowOp;
  /** The row after the change (the deleted row for a delete). */
  readonly row: RowData;
  readonly before?: RowData;
  /** Position of the row among the delivered rows of its binlog transaction. */
  readonly index: number;
}

export interface TxContext {
  /** GTID of the transaction, or file:position of its start. */
  readonly key: string;
  readonly statement: StatementKind;
  readonly receivedAt: string;
}

export interface Missing {
  readonly connectors: number[];
  readonly transactions: number[];
}

/** charge_box columns whose change means a BootNotification; nothing else of that row (password hashes!) leaves. */
const BOOT_COLUMNS = [
  ['charge_point_vendor', 'chargePointVendor'],
  ['charge_point_model', 'chargePointModel'],
  ['charge_point_serial_number', 'chargePointSerialNumber'],
  ['charge_box_serial_number', 'chargeBoxSerialNumber'],
  ['fw_version', 'firmwareVersion'],
  ['iccid', 'iccid'],
  ['imsi', 'imsi'],
  ['meter_type', 'meterType'],
  ['meter_serial_number', 'meterSerialNumber'],
] as const;

/**
 * A meter sample of the open transaction: its event is built when the sample's first row arrives and goes to the
 * output then (in row order); later rows of the sample only add to `sampledValues`.
 */
interface MeterGroup {
  readonly pk: number;
  readonly transactionId: number | undefined;
  readonly timestamp: string;
  readonly sampledValues: SampledValue[];
  /** In the index: the transaction's earlier sample with the same timestamp (another connector or transaction). */
  next: MeterGroup | undefined;
}

export interface CurrentStatus {
  readonly status: string;
  readonly errorCode: string;
  readonly timestamp: string;
}

export interface TranslatorHooks {
  /** A row names a connector or transaction the database no longer has: it cannot be attributed. */
  unmapped(table: string, detail: string): void;
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  // TIMESTAMPs from the binlog are Date objects, a new one per value.
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime() || (Number.isNaN(a.getTime()) && Number.isNaN(b.getTime()));
  return false;
}

/** A raw column value to compare with ===: a Date by its time. */
function rawKey(v: unknown): unknown {
  return v instanceof Date ? v.getTime() : v;
}

export class Translator {
  #out: EventInput[] = [];
  /** This transaction's meter samples, in order. */
  #groups: MeterGroup[] = [];
  /** The latest timestamp among them: a sample later than it cannot join an earlier one. */
  #newest = '';
  /** The samples by timestamp, built only once a sample is not later than all before it (rare: SteVe writes a
   * message's samples in order), then kept up to date for the rest of the transaction. */
  #index: Map<string, MeterGroup> | undefined;
  /** The group the previous meter row joined, with that row's raw key columns. */
  #lastGroup: MeterGroup | undefined;
  #lastPk: number | undefined;
  #lastRawTimestamp: unknown;
  #lastRawTransaction: unknown;
  /** Newest status per connector pk (by status_timestamp, which may arrive out of order). */
  readonly current = new Map<number, CurrentStatus>();
  /**
   * Without statement text: the status row SteVe writes right after a transaction_start/stop (same station, so
   * the same Jetty thread: nothing of that connector comes between), if the station has the flag on. The next
   * connector_status row of that connector consumes it; a meter row of the connector clears it.
   */
  readonly #expectSynthetic = new Map<number, { readonly status: string; readonly timestamp: string }>();

  constructor(
    private readonly topo: Topology,
    private readonly hooks: TranslatorHooks,
  ) {}

  /**
   * Applies rows[from..] of one rows event. Stops at the first row whose keys the caches lack and says where and
   * what to look up; the caller looks them up and calls again from there. Meter rows, most of the volume, take a
   * loop of their own: no change object and no dispatch per row.
   */
  applyRows(
    table: string,
    op: RowOp,
    rows: readonly RowData[] | readonly UpdateRowData[],
    firstIndex: number,
    from: number,
    tx: TxContext,
  ): { readonly at: number; readonly missing: Missing } | undefined {
    if (op === 'insert' && table === 'connector_meter_value') {
      for (let i = from; i < rows.length; i++) {
        const row = rows[i] as RowData;
        const pk = connectorPkOf(row);
        // The previous row's connector was found, so the same pk needs no cache check.
        if (pk !== this.#lastPk && pk !== undefined && this.topo.needsConnector(pk)) return { at: i, missing: { connectors: [pk], transactions: [] } };
        this.#meter(row, pk, tx, firstIndex + i);
      }
      return undefined;
    }
    for (let i = from; i < rows.length; i++) {
      const r = rows[i];
      if (r === undefined) continue;
      const change: RowChange =
        op === 'update'
          ? { table, op, row: (r as UpdateRowData).after, before: (r as UpdateRowData).before, index: firstIndex + i }
          : { table, op, row: r as RowData, index: firstIndex + i };
      const missing = this.missing(change);
      if (missing !== undefined) return { at: i, missing };
      this.apply(change, tx);
    }
    return undefined;
  }

  /** Keys this change needs that the caches do not have yet (undefined: none). */
  missing(c: RowChange): Missing | undefined {
    if (c.op !== 'insert') return undefined;
    switch (c.table) {
      case 'connector_status':
      case 'connector_meter_value':
      case 'transaction_start': {
        const pk = connectorPkOf(c.row);
        return pk !== undefined && this.topo.needsConnector(pk) ? { connectors: [pk], transactions: [] } : undefined;
      }
      case 'transaction_stop':
      case 'transaction_stop_failed': {
        const pk = int(c.row.transaction_pk);
        return pk !== undefined && this.topo.needsTransaction(pk) ? { connectors: [], transactions: [pk] } : undefined;
      }
      default:
        return undefined;
    }
  }

  apply(c: RowChange, tx: TxContext): void {
    // Ids are built where an event starts, not per row: most meter rows join the sample of the row before.
    switch (c.table) {
      case 'connector':
      case 'evse':
        return this.#topologyRow(c);
      case 'connector_status':
        if (c.op === 'insert') this.#status(c.row, eventId(tx, c.index), tx);
        return;
      case 'connector_meter_value':
        if (c.op === 'insert') this.#meter(c.row, connectorPkOf(c.row), tx, c.index);
        return;
      case 'transaction_start':
        if (c.op === 'insert') this.#started(c.row, eventId(tx, c.index), tx);
        return;
      case 'transaction_stop':
        if (c.op === 'insert') this.#stopped(c.row, eventId(tx, c.index), tx);
        return;
      case 'transaction_stop_failed':
        if (c.op === 'insert') this.#stopFailed(c.row, eventId(tx, c.index), tx);
        return;
      case 'charge_box':
        if (c.op !== 'delete') this.topo.noteChargeBox(c.row);
        if (c.op === 'update' && c.before !== undefined) this.#chargeBox(c.before, c.row, eventId(tx, c.index), tx);
        return;
      case 'data_transfer':
        if (c.op === 'insert') this.#dataTransfer(c.row, eventId(tx, c.index), tx);
        return;
      default:
        return;
    }
  }

  /** The transaction committed: its events, in row order. */
  commit(): EventInput[] {
    const events = this.#out;
    this.discard();
    return events;
  }

  /** Drop a partly seen transaction (connection lost before its commit: it will be streamed again). */
  discard(): void {
    this.#out = [];
    this.#groups = [];
    this.#newest = '';
    this.#index = undefined;
    this.#lastGroup = this.#lastPk = undefined;
  }

  #connector(table: string, row: RowData): { pk: number; ref: ConnectorRef } | undefined {
    const pk = connectorPkOf(row);
    const ref = pk === undefined ? undefined : this.topo.connectors.get(pk);
    if (pk === undefined || ref === undefined) {
      this.hooks.unmapped(table, `connector pk ${String(pk)} is unknown`);
      return undefined;
    }
    return { pk, ref };
  }

  #topologyRow(c: RowChange): void {
    const pk = connectorPkOf(c.row);
    if (pk === undefined) return;
    // Rows of SteVe's OCPP 2.0 topology number EVSEs, not 1.6 connectors.
    if (c.row.topology_source !== undefined && c.row.topology_source !== null && c.row.topology_source !== 'ocpp1') return;
    if (c.op === 'delete') this.topo.connectors.delete(pk);
    else this.topo.addConnector(pk, c.row);
    // A meter row for this pk must look its connector up again, not trust the previous row's.
    if (pk === this.#lastPk) this.#lastGroup = this.#lastPk = undefined;
  }

  #status(row: RowData, id: string, tx: TxContext): void {
    const found = this.#connector('connector_status', row);
    if (!found) return;
    const timestamp = isoTime(row.status_timestamp) ?? tx.receivedAt;
    const status = textOr(row.status, '');
    const errorCode = textOr(row.error_code, '');
    const info = text(row.error_info);
    const vendorId = text(row.vendor_id);
    const vendorErrorCode = text(row.vendor_error_code);
    const synthetic = this.#synthetic(found, { status, errorCode, timestamp, bare: info === undefined && vendorId === undefined && vendorErrorCode === undefined }, tx);
    const cur = this.current.get(found.pk);
    if (cur === undefined || cur.timestamp <= timestamp) this.current.set(found.pk, { status, errorCode, timestamp });
    const e: EventInput<'status'> = {
      id,
      type: 'status',
      chargeBoxId: found.ref.chargeBoxId,
      connectorId: found.ref.connectorId,
      timestamp,
      receivedAt: tx.receivedAt,
      source: 'steve',
      data: {
        status,
        errorCode,
        ...(info !== undefined ? { info } : {}),
        ...(vendorId !== undefined ? { vendorId } : {}),
        ...(vendorErrorCode !== undefined ? { vendorErrorCode } : {}),
        synthetic,
      },
    };
    this.#out.push(e);
  }

  /**
   * SteVe's own Charging/Available row or the station's StatusNotification? Timestamps cannot tell (whole seconds
   * on SteVe 3.7; a station may send exactly the transaction's time): the statement can, and without it, the
   * place of the row right after the transaction row, for stations that have SteVe's flag on.
   */
  #synthetic(found: { pk: number; ref: ConnectorRef }, s: { status: string; errorCode: string; timestamp: string; bare: boolean }, tx: TxContext): boolean {
    const expected = this.#expectSynthetic.get(found.pk);
    this.#expectSynthetic.delete(found.pk);
    if (tx.statement === 'syntheticStatus') return true;
    if (tx.statement !== 'none') return false;
    return (
      expected !== undefined &&
      s.bare &&
      s.errorCode === 'NoError' &&
      s.status === expected.status &&
      s.timestamp === expected.timestamp &&
      this.topo.writesSyntheticStatus(found.ref.chargeBoxId)
    );
  }

  #meter(row: RowData, pk: number | undefined, tx: TxContext, index: number): void {
    // SteVe writes one row per measurand, so a sample's rows arrive together: match the previous row's raw
    // values before paying for the connector lookup and the time conversion. Kept in plain fields, not an
    // object per sample: this runs once per meter row.
    const group = this.#lastGroup;
    const rawTimestamp = rawKey(row.value_timestamp);
    if (group !== undefined && pk === this.#lastPk && row.transaction_pk === this.#lastRawTransaction && rawTimestamp === this.#lastRawTimestamp) {
      group.sampledValues.push(sampledValue(row));
      return;
    }
    const ref = pk === undefined ? undefined : this.topo.connectors.get(pk);
    if (pk === undefined || ref === undefined) {
      this.hooks.unmapped('connector_meter_value', `connector pk ${String(pk)} is unknown`);
      return;
    }
    this.#expectSynthetic.delete(pk);
    const transactionId = int(row.transaction_pk);
    const timestamp = isoTime(row.value_timestamp) ?? '';
    // An earlier sample of the same connector, transaction and timestamp takes this row too. Looked up by
    // timestamp, and only when this one is not later than every sample before it (a map per sample costs more
    // than the rest of the sample's work).
    let found: MeterGroup | undefined;
    if (timestamp > this.#newest && this.#index === undefined) this.#newest = timestamp;
    else {
      found = this.#indexed().get(timestamp);
      while (found !== undefined && (found.pk !== pk || found.transactionId !== transactionId)) found = found.next;
    }
    if (found === undefined) {
      const sampledValues: SampledValue[] = [];
      // The event itself, field by field rather than with a conditional spread: one per meter sample.
      const e: Mutable<EventInput<'meterValues'>> = {
        id: eventId(tx, index),
        type: 'meterValues',
        chargeBoxId: ref.chargeBoxId,
        connectorId: ref.connectorId,
        timestamp,
        receivedAt: tx.receivedAt,
        source: 'steve',
        data: { sampledValues },
      };
      if (transactionId !== undefined) e.transactionId = transactionId;
      found = { pk, transactionId, timestamp, sampledValues, next: undefined };
      this.#groups.push(found);
      if (this.#index !== undefined) this.#addToIndex(this.#index, found);
      this.#out.push(e);
    }
    found.sampledValues.push(sampledValue(row));
    this.#lastGroup = found;
    this.#lastPk = pk;
    this.#lastRawTimestamp = rawTimestamp;
    this.#lastRawTransaction = row.transaction_pk;
  }

  #indexed(): Map<string, MeterGroup> {
    if (this.#index === undefined) {
      const index = new Map<string, MeterGroup>();
      for (const g of this.#groups) this.#addToIndex(index, g);
      this.#index = index;
    }
    return this.#index;
  }

  #addToIndex(index: Map<string, MeterGroup>, g: MeterGroup): void {
    g.next = index.get(g.timestamp);
    index.set(g.timestamp, g);
  }

  #started(row: RowData, id: string, tx: TxContext): void {
    const found = this.#connector('transaction_start', row);
    const transactionId = int(row.transaction_pk);
    if (!found || transactionId === undefined) return;
    const ref = transactionRef(row, found.pk);
    this.topo.addTransaction(transactionId, ref);
    const startTime = ref.startTime ?? isoTime(row.event_timestamp) ?? tx.receivedAt;
    this.#expectSynthetic.set(found.pk, { status: 'Charging', timestamp: startTime });
    const e: EventInput<'transactionStarted'> = {
      id,
      type: 'transactionStarted',
      chargeBoxId: found.ref.chargeBoxId,
      connectorId: found.ref.connectorId,
      transactionId,
      timestamp: startTime,
      receivedAt: tx.receivedAt,
      source: 'steve',
      data: { idTag: ref.idTag, meterStart: ref.meterStart ?? 0, startTime },
    };
    this.#out.push(e);
  }

  #transaction(table: string, transactionId: number): { pk: number; ref: ConnectorRef; start: ReturnType<Topology['transactions']['get']> } | undefined {
    const start = this.topo.transactions.get(transactionId);
    const ref = start === undefined ? undefined : this.topo.connectors.get(start.connectorPk);
    if (start === undefined || ref === undefined) {
      this.hooks.unmapped(table, `transaction ${transactionId} is unknown`);
      return undefined;
    }
    return { pk: start.connectorPk, ref, start };
  }

  #stopped(row: RowData, id: string, tx: TxContext): void {
    const transactionId = int(row.transaction_pk);
    if (transactionId === undefined) return;
    const found = this.#transaction('transaction_stop', transactionId);
    if (!found) return;
    const stopTime = isoTime(row.stop_timestamp) ?? tx.receivedAt;
    this.#expectSynthetic.set(found.pk, { status: 'Available', timestamp: stopTime });
    const meterStop = meter(row.stop_value) ?? 0;
    const reason = text(row.stop_reason);
    const meterStart = found.start?.meterStart;
    const e: EventInput<'transactionStopped'> = {
      id,
      type: 'transactionStopped',
      chargeBoxId: found.ref.chargeBoxId,
      connectorId: found.ref.connectorId,
      transactionId,
      timestamp: stopTime,
      receivedAt: tx.receivedAt,
      source: 'steve',
      data: {
        meterStop,
        stopTime,
        ...(reason !== undefined ? { reason } : {}),
        actor: row.event_actor === 'manual' ? 'manual' : 'station',
        ...(found.start !== undefined && found.start.idTag !== '' ? { idTag: found.start.idTag } : {}),
        ...(meterStart !== undefined ? { energyWh: meterStop - meterStart } : {}),
      },
    };
    this.#out.push(e);
  }

  #stopFailed(row: RowData, id: string, tx: TxContext): void {
    const transactionId = int(row.transaction_pk);
    const start = transactionId === undefined ? undefined : this.topo.transactions.get(transactionId);
    const ref = start === undefined ? undefined : this.topo.connectors.get(start.connectorPk);
    const chargeBoxId = text(row.charge_box_id) ?? ref?.chargeBoxId;
    if (chargeBoxId === undefined) {
      this.hooks.unmapped('transaction_stop_failed', `no charge box for transaction ${String(transactionId)}`);
      return;
    }
    const meterStop = meter(row.stop_value);
    const stopTime = isoTime(row.stop_timestamp);
    const stopReason = text(row.stop_reason);
    const e: EventInput<'transactionStopFailed'> = {
      id,
      type: 'transactionStopFailed',
      chargeBoxId,
      ...(ref !== undefined ? { connectorId: ref.connectorId } : {}),
      ...(transactionId !== undefined ? { transactionId } : {}),
      timestamp: isoTime(row.event_timestamp) ?? tx.receivedAt,
      receivedAt: tx.receivedAt,
      source: 'steve',
      data: {
        reason: textOr(row.fail_reason, ''),
        ...(meterStop !== undefined ? { meterStop } : {}),
        ...(stopTime !== undefined ? { stopTime } : {}),
        ...(stopReason !== undefined ? { stopReason } : {}),
      },
    };
    this.#out.push(e);
  }

  #chargeBox(before: RowData, after: RowData, id: string, tx: TxContext): void {
    const chargeBoxId = text(after.charge_box_id);
    if (chargeBoxId === undefined) return;
    const base = { chargeBoxId, receivedAt: tx.receivedAt, source: 'steve' as const };
    const heartbeatAt = isoTime(after.last_heartbeat_timestamp);
    const heartbeatMoved = !same(before.last_heartbeat_timestamp, after.last_heartbeat_timestamp) && heartbeatAt !== undefined;
    // SteVe's BootNotification UPDATE names the boot columns; the statement text tells a reboot with unchanged
    // details from a heartbeat. Without ANNOTATE_ROWS events, a changed boot column is the evidence.
    const boot = tx.statement === 'bootUpdate' || BOOT_COLUMNS.some(([col]) => !same(before[col], after[col]));
    if (boot) {
      const data: Record<string, string> = {};
      for (const [col, field] of BOOT_COLUMNS) {
        const v = text(after[col]);
        if (v !== undefined) data[field] = v;
      }
      const e: EventInput<'bootNotification'> = {
        ...base,
        id: `${id}:boot`,
        type: 'bootNotification',
        timestamp: heartbeatAt ?? tx.receivedAt,
        data,
      };
      this.#out.push(e);
    } else if (heartbeatMoved) {
      const e: EventInput<'heartbeat'> = { ...base, id: `${id}:heartbeat`, type: 'heartbeat', timestamp: heartbeatAt, data: {} };
      this.#out.push(e);
    }
    const fw = text(after.fw_update_status);
    if (fw !== undefined && (!same(before.fw_update_status, after.fw_update_status) || !same(before.fw_update_timestamp, after.fw_update_timestamp))) {
      const e: EventInput<'firmwareStatus'> = {
        ...base,
        id: `${id}:firmware`,
        type: 'firmwareStatus',
        timestamp: isoTime(after.fw_update_timestamp) ?? tx.receivedAt,
        data: { status: fw },
      };
      this.#out.push(e);
    }
    const diag = text(after.diagnostics_status);
    if (diag !== undefined && (!same(before.diagnostics_status, after.diagnostics_status) || !same(before.diagnostics_timestamp, after.diagnostics_timestamp))) {
      const e: EventInput<'diagnosticsStatus'> = {
        ...base,
        id: `${id}:diagnostics`,
        type: 'diagnosticsStatus',
        timestamp: isoTime(after.diagnostics_timestamp) ?? tx.receivedAt,
        data: { status: diag },
      };
      this.#out.push(e);
    }
  }

  #dataTransfer(row: RowData, id: string, tx: TxContext): void {
    const chargeBoxId = text(row.charge_box_id);
    if (chargeBoxId === undefined) {
      this.hooks.unmapped('data_transfer', 'row without charge_box_id');
      return;
    }
    const messageId = text(row.message_id);
    const data = parseData(row.data);
    const e: EventInput<'dataTransfer'> = {
      id,
      type: 'dataTransfer',
      chargeBoxId,
      timestamp: isoTime(row.received_at) ?? tx.receivedAt,
      receivedAt: tx.receivedAt,
      source: 'steve',
      data: {
        vendorId: textOr(row.vendor_id, ''),
        ...(messageId !== undefined ? { messageId } : {}),
        ...(data !== undefined ? { data } : {}),
      },
    };
    this.#out.push(e);
  }
}

function eventId(tx: TxContext, index: number): string {
  return `steve:${tx.key}:${index}`;
}
