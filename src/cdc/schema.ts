// SteVe's two schema generations and the tables the reader follows. Columns are always read by name.
import type { RowData } from '@vlasky/zongji';

/** SteVe <= 3.12 calls a connector `connector`/`connector_pk`; 3.13 renamed them to `evse`/`evse_pk`. */
export type SteveGeneration = 'connector' | 'evse';

export interface SteveNaming {
  readonly generation: SteveGeneration;
  readonly connectorTable: 'connector' | 'evse';
  readonly connectorPk: 'connector_pk' | 'evse_pk';
  readonly connectorNumber: 'connector_id' | 'evse_id';
}

export const NAMING: Readonly<Record<SteveGeneration, SteveNaming>> = {
  connector: { generation: 'connector', connectorTable: 'connector', connectorPk: 'connector_pk', connectorNumber: 'connector_id' },
  evse: { generation: 'evse', connectorTable: 'evse', connectorPk: 'evse_pk', connectorNumber: 'evse_id' },
};

/** Tables that must exist (besides `connector` or `evse`). */
export const REQUIRED_TABLES = [
  'charge_box', 'connector_status', 'connector_meter_value', 'transaction_start', 'transaction_stop', 'transaction_stop_failed',
] as const;

/** flashCharge's patched SteVe adds this one; followed when present. */
export const OPTIONAL_TABLES = ['data_transfer'] as const;

/** Both namings are followed, so a SteVe upgrade that renames tables mid-stream keeps working. */
export const WATCHED_TABLES: readonly string[] = [...REQUIRED_TABLES, ...OPTIONAL_TABLES, 'connector', 'evse'];

/** The connector surrogate key of a row, whichever generation wrote it. */
export function connectorPkOf(row: RowData): number | undefined {
  const v = row.evse_pk ?? row.connector_pk;
  return typeof v === 'number' ? v : v === null || v === undefined ? undefined : Number(v);
}

/** The OCPP connectorId of a `connector`/`evse` row. */
export function connectorNumberOf(row: RowData): number | undefined {
  const v = row.evse_id ?? row.connector_id;
  return typeof v === 'number' ? v : v === null || v === undefined ? undefined : Number(v);
}
