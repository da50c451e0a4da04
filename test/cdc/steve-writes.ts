// SteVe's database writes for each OCPP message, statement by statement and with SteVe's transaction
// boundaries (steve.md §2), in either schema generation. Used by the binlog reader tests and the benchmark.
import type mysql from 'mysql2/promise';
import type { PrivateMariadb } from '../support/mariadb.js';

export type Generation = '3.12' | '3.13';

export interface Sample {
  readonly value: string;
  readonly measurand?: string;
  readonly unit?: string;
  readonly context?: string;
  readonly format?: string;
  readonly location?: string;
  readonly phase?: string;
}

/** SteVe keeps milliseconds; SQL literal in UTC. */
export function sqlTime(d: Date | string): string {
  const iso = typeof d === 'string' ? new Date(d).toISOString() : d.toISOString();
  return iso.replace('T', ' ').replace('Z', '');
}

/** What SteVe's Jackson module does to every incoming string (OWASP Encode.forHtml). */
export function htmlEncode(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

export class SteveWriter {
  readonly pkCol: string;
  readonly connTable: string;

  private constructor(
    private readonly c: mysql.Connection,
    readonly generation: Generation,
  ) {
    this.pkCol = generation === '3.13' ? 'evse_pk' : 'connector_pk';
    this.connTable = generation === '3.13' ? 'evse' : 'connector';
  }

  static async open(db: PrivateMariadb, database: string, generation: Generation): Promise<SteveWriter> {
    const c = await db.connect(database);
    await c.query("SET time_zone = '+00:00'");
    return new SteveWriter(c, generation);
  }

  async close(): Promise<void> {
    await this.c.end();
  }

  async q<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
    const [rows] = await this.c.query(sql, params);
    return rows as T;
  }

  async tx<T>(fn: () => Promise<T>): Promise<T> {
    await this.c.beginTransaction();
    try {
      const out = await fn();
      await this.c.commit();
      return out;
    } catch (err) {
      await this.c.rollback();
      throw err;
    }
  }

  /** Operator adds the station in SteVe's UI (auth password hash included: it must never leave the reader). */
  async addStation(chargeBoxId: string, opts: { syntheticStatus?: boolean } = {}): Promise<void> {
    await this.q(
      'INSERT INTO charge_box (charge_box_id, insert_connector_status_after_transaction_msg, auth_password) VALUES (?, ?, ?)',
      [chargeBoxId, opts.syntheticStatus === false ? 0 : 1, '$2a$10$abcdefghijklmnopqrstuv'],
    );
  }

  async addTag(idTag: string): Promise<void> {
    await this.q('INSERT IGNORE INTO ocpp_tag (id_tag, max_active_transaction_count) VALUES (?, 1)', [idTag]);
  }

  /** Ocpp1ConnectorEvseBridge.insertIgnoreConnector (3.13) or the bare INSERT IGNORE connector (≤3.12); inside the caller's transaction. */
  async insertIgnoreConnector(chargeBoxId: string, connectorId: number): Promise<number> {
    if (this.generation === '3.13') {
      await this.q('SELECT charge_box_pk FROM charge_box WHERE charge_box_id = ? FOR UPDATE', [chargeBoxId]);
      const found = await this.q<{ evse_pk: number }[]>(
        "SELECT evse_pk FROM evse WHERE charge_box_id = ? AND topology_source = 'ocpp1' AND evse_id = ?",
        [chargeBoxId, connectorId],
      );
      if (found[0]) return found[0].evse_pk;
      const res = await this.q<{ insertId: number }>(
        "INSERT INTO evse (charge_box_id, topology_source, evse_id) VALUES (?, 'ocpp1', ?) ON DUPLICATE KEY UPDATE evse_pk = LAST_INSERT_ID(evse_pk)",
        [chargeBoxId, connectorId],
      );
      if (connectorId !== 0) await this.q('INSERT IGNORE INTO evse_connector (evse_pk, connector_id) VALUES (?, 1)', [res.insertId]);
      return res.insertId;
    }
    await this.q('INSERT IGNORE INTO connector (charge_box_id, connector_id) VALUES (?, ?)', [chargeBoxId, connectorId]);
    const rows = await this.q<{ connector_pk: number }[]>('SELECT connector_pk FROM connector WHERE charge_box_id = ? AND connector_id = ?', [
      chargeBoxId,
      connectorId,
    ]);
    return rows[0]!.connector_pk;
  }

  async connectorPk(chargeBoxId: string, connectorId: number): Promise<number> {
    const col = this.generation === '3.13' ? 'evse_id' : 'connector_id';
    const rows = await this.q<Record<string, number>[]>(`SELECT ${this.pkCol} AS pk FROM ${this.connTable} WHERE charge_box_id = ? AND ${col} = ?`, [
      chargeBoxId,
      connectorId,
    ]);
    return rows[0]!.pk!;
  }

  async bootNotification(
    chargeBoxId: string,
    b: { vendor: string; model: string; serial?: string; boxSerial?: string; firmware?: string; iccid?: string; imsi?: string; meterType?: string; meterSerial?: string },
    now = new Date(),
  ): Promise<void> {
    await this.q(
      `UPDATE charge_box SET ocpp_protocol = ?, charge_point_vendor = ?, charge_point_model = ?, charge_point_serial_number = ?,
         charge_box_serial_number = ?, fw_version = ?, iccid = ?, imsi = ?, meter_type = ?, meter_serial_number = ?,
         last_heartbeat_timestamp = ? WHERE charge_box_id = ?`,
      [
        'ocpp1.6J', htmlEncode(b.vendor), htmlEncode(b.model), b.serial ?? null, b.boxSerial ?? null, b.firmware ?? null, b.iccid ?? null,
        b.imsi ?? null, b.meterType ?? null, b.meterSerial ?? null, sqlTime(now), chargeBoxId,
      ],
    );
  }

  async heartbeat(chargeBoxId: string, now = new Date()): Promise<void> {
    await this.q('UPDATE charge_box SET last_heartbeat_timestamp = ? WHERE charge_box_id = ?', [sqlTime(now), chargeBoxId]);
  }

  /** After every WebSocket connect: not an event. */
  async connected(chargeBoxId: string): Promise<void> {
    await this.q("UPDATE charge_box SET ocpp_protocol = 'ocpp1.6J' WHERE charge_box_id = ?", [chargeBoxId]);
  }

  async firmwareStatus(chargeBoxId: string, status: string, now = new Date()): Promise<void> {
    await this.q('UPDATE charge_box SET fw_update_status = ?, fw_update_timestamp = ? WHERE charge_box_id = ?', [status, sqlTime(now), chargeBoxId]);
  }

  async diagnosticsStatus(chargeBoxId: string, status: string, now = new Date()): Promise<void> {
    await this.q('UPDATE charge_box SET diagnostics_status = ?, diagnostics_timestamp = ? WHERE charge_box_id = ?', [status, sqlTime(now), chargeBoxId]);
  }

  async statusNotification(
    chargeBoxId: string,
    connectorId: number,
    status: string,
    errorCode = 'NoError',
    opts: { timestamp?: Date | string; info?: string; vendorId?: string; vendorErrorCode?: string } = {},
  ): Promise<void> {
    await this.tx(async () => {
      const pk = await this.insertIgnoreConnector(chargeBoxId, connectorId);
      await this.q(
        `INSERT INTO connector_status (${this.pkCol}, status_timestamp, status, error_code, error_info, vendor_id, vendor_error_code) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [
          pk, sqlTime(opts.timestamp ?? new Date()), status, errorCode, opts.info !== undefined ? htmlEncode(opts.info) : null,
          opts.vendorId ?? null, opts.vendorErrorCode ?? null,
        ],
      );
    });
  }

  async meterValues(chargeBoxId: string, connectorId: number, transactionId: number | null, values: { timestamp: Date | string; samples: Sample[] }[]): Promise<void> {
    await this.tx(async () => {
      const pk = await this.insertIgnoreConnector(chargeBoxId, connectorId);
      await this.insertMeterRows(pk, transactionId, values);
    });
  }

  async insertMeterRows(pk: number, transactionId: number | null, values: { timestamp: Date | string; samples: Sample[] }[]): Promise<void> {
    const rows = values.flatMap((mv) =>
      mv.samples.map((s) => [pk, transactionId, sqlTime(mv.timestamp), s.value, s.context ?? null, s.format ?? null, s.measurand ?? null, s.location ?? null, s.unit ?? null, s.phase ?? null]),
    );
    if (rows.length === 0) return;
    await this.q(
      `INSERT INTO connector_meter_value (${this.pkCol}, transaction_pk, value_timestamp, value, reading_context, format, measurand, location, unit, phase) VALUES ?`,
      [rows],
    );
  }

  /** StartTransaction: connector (own tx), unknown tag stored blocked, transaction_start, synthetic Charging row; each autocommits. */
  async startTransaction(chargeBoxId: string, connectorId: number, idTag: string, meterStart: number, timestamp: Date | string): Promise<number> {
    const pk = await this.tx(() => this.insertIgnoreConnector(chargeBoxId, connectorId));
    await this.q('INSERT INTO ocpp_tag (id_tag, note, max_active_transaction_count) VALUES (?, ?, 0) ON DUPLICATE KEY UPDATE id_tag = id_tag', [
      idTag,
      'unknown tag',
    ]);
    const res = await this.q<{ insertId: number }>(
      `INSERT INTO transaction_start (event_timestamp, ${this.pkCol}, id_tag, start_timestamp, start_value) VALUES (?, ?, ?, ?, ?)`,
      [sqlTime(new Date()), pk, idTag, sqlTime(timestamp), String(meterStart)],
    );
    if (await this.syntheticStatus(chargeBoxId)) {
      await this.q(`INSERT INTO connector_status (${this.pkCol}, status_timestamp, status, error_code) VALUES (?, ?, 'Charging', 'NoError')`, [
        pk,
        sqlTime(timestamp),
      ]);
    }
    return res.insertId;
  }

  /** StopTransaction accepted: transaction_stop, synthetic Available, then transactionData meter rows; each autocommits. */
  async stopTransaction(
    chargeBoxId: string,
    transactionId: number,
    meterStop: number,
    timestamp: Date | string,
    reason: string | null,
    transactionData: { timestamp: Date | string; samples: Sample[] }[] = [],
    actor: 'station' | 'manual' = 'station',
  ): Promise<void> {
    const rows = await this.q<Record<string, number>[]>(`SELECT ${this.pkCol} AS pk FROM transaction_start WHERE transaction_pk = ?`, [transactionId]);
    const pk = rows[0]!.pk!;
    await this.q('INSERT INTO transaction_stop (transaction_pk, event_timestamp, event_actor, stop_timestamp, stop_value, stop_reason) VALUES (?, ?, ?, ?, ?, ?)', [
      transactionId, sqlTime(new Date()), actor, sqlTime(timestamp), String(meterStop), reason,
    ]);
    if (await this.syntheticStatus(chargeBoxId)) {
      await this.q(`INSERT INTO connector_status (${this.pkCol}, status_timestamp, status, error_code) VALUES (?, ?, 'Available', 'NoError')`, [
        pk,
        sqlTime(timestamp),
      ]);
    }
    await this.insertMeterRows(pk, transactionId, transactionData);
  }

  /** StopTransaction rejected by SteVe's checks: the failure row; the transaction stays open. */
  async stopTransactionFailed(chargeBoxId: string, transactionId: number, meterStop: number, timestamp: Date | string, reason: string | null, failReason: string): Promise<void> {
    await this.q(
      'INSERT INTO transaction_stop_failed (transaction_pk, charge_box_id, event_timestamp, event_actor, stop_timestamp, stop_value, stop_reason, fail_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [transactionId, chargeBoxId, sqlTime(new Date()), 'station', sqlTime(timestamp), String(meterStop), reason, failReason],
    );
  }

  /** flashCharge's patched SteVe: raw INSERT with NOW(), the payload HTML-encoded like every stored string. */
  async dataTransfer(chargeBoxId: string, vendorId: string, messageId: string | null, data: string | null): Promise<void> {
    await this.q('INSERT INTO data_transfer (charge_box_id, vendor_id, message_id, data, received_at) VALUES (?, ?, ?, ?, NOW())', [
      chargeBoxId,
      htmlEncode(vendorId),
      messageId === null ? null : htmlEncode(messageId),
      data === null ? null : htmlEncode(data),
    ]);
  }

  private async syntheticStatus(chargeBoxId: string): Promise<boolean> {
    const rows = await this.q<{ f: number | null }[]>('SELECT insert_connector_status_after_transaction_msg AS f FROM charge_box WHERE charge_box_id = ?', [chargeBoxId]);
    return rows[0]?.f === 1;
  }
}
