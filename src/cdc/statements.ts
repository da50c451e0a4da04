// What MariaDB's ANNOTATE_ROWS statement text tells about the rows after it: SteVe's BootNotification UPDATE
// (a reboot with unchanged details), or SteVe's own status row after Start/StopTransaction. Decided when the
// statement arrives and only from its head, so that the text itself, hundreds of KB for a large multi-row
// INSERT, is not kept alive while the transaction's rows stream by.

/**
 * What the statement behind a row change was, from MariaDB's ANNOTATE_ROWS text (decided from its head only):
 * SteVe's BootNotification UPDATE of charge_box; SteVe's own status row after Start/StopTransaction (an INSERT
 * into connector_status naming no error_info: a StatusNotification's INSERT names error_info, vendor_id and
 * vendor_error_code even when they are NULL); another statement; or 'none' when the server sent no text (MySQL,
 * binlog_annotate_row_events=OFF).
 */
export type StatementKind = 'none' | 'bootUpdate' | 'syntheticStatus' | 'other';

/** SteVe's BootNotification UPDATE names charge_point_vendor right after ocpp_protocol: well inside this head. */
const STATEMENT_HEAD = 2048;

/** Whether a statement is SteVe's BootNotification UPDATE of charge_box. */
export function isBootUpdate(statement: string): boolean {
  const head = statement.length > STATEMENT_HEAD ? statement.slice(0, STATEMENT_HEAD) : statement;
  return /\bupdate\b/i.test(head) && /charge_point_vendor/i.test(head);
}

/** SteVe's synthetic status INSERT: `insert into [schema.]connector_status (evse_pk|connector_pk, status_timestamp, status, error_code) values …`. */
const STATUS_INSERT = /^\s*insert\s+into\s+(?:`?\w+`?\.)?`?connector_status`?\s*\(([^)]*)\)/i;

export function classifyStatement(statement: string): StatementKind {
  const head = statement.length > STATEMENT_HEAD ? statement.slice(0, STATEMENT_HEAD) : statement;
  if (isBootUpdate(head)) return 'bootUpdate';
  const insert = STATUS_INSERT.exec(head);
  if (insert && !/error_info/i.test(insert[1]!)) return 'syntheticStatus';
  return 'other';
}
