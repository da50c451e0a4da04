// What row events do not carry: connector pk → (chargeBoxId, connectorId) and transaction pk → its start.
// Seeded with one SELECT at start, kept current from the stream, filled on a miss with a keyed SELECT.
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { connectorNumberOf, type SteveNaming } from './schema.js';
import { isoTime, meter, text, textOr } from './values.js';

export interface ConnectorRef {
  readonly chargeBoxId: string;
  readonly connectorId: number;
}

export interface TransactionRef {
  readonly connectorPk: number;
  readonly idTag: string;
  readonly meterStart: number | undefined;
  readonly startTime: string | undefined;
}

/** Transactions kept in memory; the oldest go first (a miss only costs one keyed SELECT). */
const MAX_TRANSACTIONS = 50_000;

export class Topology {
  readonly connectors = new Map<number, ConnectorRef>();
  readonly transactions = new Map<number, TransactionRef>();
  /**
   * charge_box.insert_connector_status_after_transaction_msg per station: whether SteVe writes its own
   * Charging/Available row after Start/StopTransaction. Absent: SteVe's column default (on).
   */
  readonly #syntheticStatus = new Map<string, boolean>();
  /** Keys looked up and not found (deleted since): not asked again. */
  readonly #absentConnectors = new Set<number>();
  readonly #absentTransactions = new Set<number>();

  constructor(private naming: SteveNaming) {}

  setNaming(naming: SteveNaming): void {
    this.naming = naming;
  }

  addConnector(pk: number, row: Record<string, unknown>): void {
    const chargeBoxId = text(row.charge_box_id);
    const connectorId = connectorNumberOf(row);
    if (chargeBoxId === undefined || connectorId === undefined) return;
    this.connectors.set(pk, { chargeBoxId, connectorId });
    this.#absentConnectors.delete(pk);
  }

  addTransaction(pk: number, ref: TransactionRef): void {
    if (this.transactions.size >= MAX_TRANSACTIONS && !this.transactions.has(pk)) {
      const oldest = this.transactions.keys().next();
      if (!oldest.done) this.transactions.delete(oldest.value);
    }
    this.transactions.set(pk, ref);
    this.#absentTransactions.delete(pk);
  }

  /** From a charge_box row (seed, snapshot or a row image in the binlog). */
  noteChargeBox(row: Record<string, unknown>): void {
    const id = text(row.charge_box_id);
    const flag = row.insert_connector_status_after_transaction_msg;
    if (id === undefined || flag === undefined || flag === null) return;
    this.#syntheticStatus.set(id, Number(flag) !== 0);
  }

  writesSyntheticStatus(chargeBoxId: string): boolean {
    return this.#syntheticStatus.get(chargeBoxId) ?? true;
  }

  needsConnector(pk: number): boolean {
    return !this.connectors.has(pk) && !this.#absentConnectors.has(pk);
  }

  needsTransaction(pk: number): boolean {
    return !this.transactions.has(pk) && !this.#absentTransactions.has(pk);
  }

  /** All connectors plus the open transactions: the start-up seed. */
  async seed(db: Pool): Promise<void> {
    const n = this.naming;
    const [rows] = await db.query<RowDataPacket[]>(
      `SELECT ${n.connectorPk} AS pk, charge_box_id, ${n.connectorNumber} AS ${n.connectorNumber} FROM ${n.connectorTable}`,
    );
    for (const r of rows) this.addConnector(Number(r.pk), r);
    const [boxes] = await db.query<RowDataPacket[]>('SELECT charge_box_id, insert_connector_status_after_transaction_msg FROM charge_box');
    for (const b of boxes) this.noteChargeBox(b);
    const [open] = await db.query<RowDataPacket[]>(
      `SELECT s.transaction_pk, s.${n.connectorPk} AS cpk, s.id_tag, s.start_value, s.start_timestamp FROM transaction_start s
       WHERE NOT EXISTS (SELECT 1 FROM transaction_stop p WHERE p.transaction_pk = s.transaction_pk)`,
    );
    for (const r of open) this.addTransaction(Number(r.transaction_pk), transactionRef(r, Number(r.cpk)));
  }

  async fetchConnectors(db: Pool, pks: readonly number[]): Promise<void> {
    if (pks.length === 0) return;
    const n = this.naming;
    const [rows] = await db.query<RowDataPacket[]>(
      `SELECT ${n.connectorPk} AS pk, charge_box_id, ${n.connectorNumber} FROM ${n.connectorTable} WHERE ${n.connectorPk} IN (?)`,
      [pks],
    );
    for (const r of rows) this.addConnector(Number(r.pk), r);
    for (const pk of pks) if (!this.connectors.has(pk)) this.#absentConnectors.add(pk);
  }

  async fetchTransactions(db: Pool, pks: readonly number[]): Promise<void> {
    if (pks.length === 0) return;
    const n = this.naming;
    const [rows] = await db.query<RowDataPacket[]>(
      `SELECT transaction_pk, ${n.connectorPk} AS cpk, id_tag, start_value, start_timestamp FROM transaction_start WHERE transaction_pk IN (?)`,
      [pks],
    );
    for (const r of rows) this.addTransaction(Number(r.transaction_pk), transactionRef(r, Number(r.cpk)));
    const missingConnectors = [...new Set(rows.map((r) => Number(r.cpk)))].filter((pk) => this.needsConnector(pk));
    await this.fetchConnectors(db, missingConnectors);
    for (const pk of pks) if (!this.transactions.has(pk)) this.#absentTransactions.add(pk);
  }
}

export function transactionRef(row: Record<string, unknown>, connectorPk: number): TransactionRef {
  return {
    connectorPk,
    idTag: textOr(row.id_tag, ''),
    meterStart: meter(row.start_value),
    startTime: isoTime(row.start_timestamp),
  };
}

