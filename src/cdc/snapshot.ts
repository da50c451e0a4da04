// A consistent read of SteVe's current state and the binlog point it corresponds to. Streaming then starts at
// exactly that point, so nothing is missed and nothing is counted twice. Two ways to find the point:
//  - MariaDB, lock-free: START TRANSACTION WITH CONSISTENT SNAPSHOT, binlog_snapshot_file/position, BINLOG_GTID_POS;
//  - MySQL (which has no such status): writes held for a moment with FLUSH TABLES WITH READ LOCK while the binlog
//    position is read and the snapshot transaction opens, then UNLOCK TABLES before the reads (Debezium's recipe).
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { EventDataMap } from '../events/catalogue.js';
import { GatewayError } from '../errors.js';
import type { SteveNaming } from './schema.js';
import { transactionRef, type Topology } from './topology.js';
import { sampledValue } from './meter-row.js';
import type { CurrentStatus } from './translate.js';
import { int, isoTime, textOr } from './values.js';

export type ResyncData = Omit<EventDataMap['resync'], 'reason'>;

export interface Snapshot {
  readonly gtid: string | undefined;
  readonly file: string;
  readonly position: number;
  /** One entry per station in charge_box, connectors sorted by id. */
  readonly stations: ReadonlyMap<string, ResyncData>;
  /** Newest status per connector pk, to seed the translator. */
  readonly current: ReadonlyMap<number, CurrentStatus>;
}

interface Mutable {
  connectors: { connectorId: number; status: string; errorCode: string; timestamp: string }[];
  openTransactions: { transactionId: number; connectorId: number; idTag: string; meterStart: number; startTime: string }[];
  lastMeterValues: { connectorId: number; transactionId?: number; timestamp: string; sampledValues: ReturnType<typeof sampledValue>[] }[];
}

/** How long the read lock may wait for other sessions' locks before the snapshot gives up and is retried. */
const READ_LOCK_WAIT_S = 5;

/** `mariadb`: lock-free (MariaDB only). `read-lock`: a brief global read lock (MySQL; works on MariaDB too). */
export type SnapshotMethod = 'mariadb' | 'read-lock';

interface BinlogPoint {
  readonly file: string;
  readonly position: number;
  /** Known at once under the read lock; on MariaDB's lock-free path it is derived from file:position afterwards. */
  readonly gtid?: string;
}

/** Opens the snapshot transaction on the MariaDB way: the transaction itself reports its binlog point. */
async function openLockFree(conn: PoolConnection): Promise<BinlogPoint> {
  await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  const [status] = await conn.query<RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
  const vars = new Map(status.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
  return { file: vars.get('binlog_snapshot_file') ?? '', position: Number(vars.get('binlog_snapshot_position') ?? 0) };
}

/** Opens the snapshot transaction while writes are held, reading the binlog point in the same quiet moment. */
async function openUnderReadLock(conn: PoolConnection, mariadb: boolean): Promise<BinlogPoint> {
  // FLUSH TABLES WITH READ LOCK waits for other sessions' table locks and writes, and SteVe's writes queue behind it:
  // give up after a few seconds (the reader retries with backoff) rather than stall SteVe for long.
  await conn.query(`SET SESSION lock_wait_timeout = ${READ_LOCK_WAIT_S}`);
  try {
    await conn.query('FLUSH TABLES WITH READ LOCK');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ER_LOCK_WAIT_TIMEOUT') {
      // Not a configuration problem: the reader retries with backoff.
      throw new Error(
        `snapshot: lock wait timeout: FLUSH TABLES WITH READ LOCK waited ${READ_LOCK_WAIT_S} s for another session ` +
          '(LOCK TABLES or a long write) and gave up so as not to hold up SteVe; retrying with backoff',
        { cause: err },
      );
    }
    if (code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
      throw new GatewayError(
        'GW_ERR_CONFIG',
        'SteVe database: a consistent snapshot is needed (no checkpoint, or its binlog was purged); on MySQL it holds writes for a ' +
          "moment with FLUSH TABLES WITH READ LOCK, which needs the RELOAD privilege. Fix: GRANT RELOAD ON *.* TO the reader's account (see sql/cdc-grants.sql).",
        { variable: 'STEVE_DB_URL', check: 'snapshot' },
      );
    }
    throw err;
  }
  try {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const row = await binaryLogStatus(conn);
    const file = String(row?.File ?? '');
    const position = Number(row?.Position ?? 0);
    let gtid: string | undefined;
    if (mariadb) {
      const [g] = await conn.query<RowDataPacket[]>('SELECT @@GLOBAL.gtid_binlog_pos AS gtid');
      gtid = String(g[0]?.gtid ?? '');
    } else {
      // MySQL prints long GTID sets over several lines.
      gtid = String(row?.Executed_Gtid_Set ?? '').replace(/\s+/g, '');
    }
    return { file, position, ...(gtid !== '' ? { gtid } : {}) };
  } finally {
    await conn.query('UNLOCK TABLES');
  }
}

/** SHOW BINARY LOG STATUS (MySQL 8.2 on; SHOW MASTER STATUS is gone in 8.4), else SHOW MASTER STATUS. */
async function binaryLogStatus(conn: PoolConnection): Promise<RowDataPacket | undefined> {
  try {
    const [rows] = await conn.query<RowDataPacket[]>('SHOW BINARY LOG STATUS');
    return rows[0];
  } catch (err) {
    if ((err as { code?: string }).code !== 'ER_PARSE_ERROR') throw err;
    const [rows] = await conn.query<RowDataPacket[]>('SHOW MASTER STATUS');
    return rows[0];
  }
}

export async function takeSnapshot(db: Pool, naming: SteveNaming, topo: Topology, method: SnapshotMethod, mariadb: boolean): Promise<Snapshot> {
  const n = naming;
  const conn = await db.getConnection();
  try {
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const point = method === 'mariadb' ? await openLockFree(conn) : await openUnderReadLock(conn, mariadb);
    const { file, position } = point;

    const [boxes] = await conn.query<RowDataPacket[]>('SELECT charge_box_id, insert_connector_status_after_transaction_msg FROM charge_box');
    const ocpp1 = n.generation === 'evse' ? "WHERE topology_source = 'ocpp1'" : '';
    const [connectors] = await conn.query<RowDataPacket[]>(
      `SELECT ${n.connectorPk} AS pk, charge_box_id, ${n.connectorNumber} FROM ${n.connectorTable} ${ocpp1}`,
    );
    const [statuses] = await conn.query<RowDataPacket[]>(
      `SELECT cs.${n.connectorPk} AS pk, cs.status, cs.error_code, cs.status_timestamp FROM connector_status cs
       JOIN (SELECT ${n.connectorPk} AS pk, MAX(status_timestamp) AS ts FROM connector_status GROUP BY ${n.connectorPk}) latest
         ON latest.pk = cs.${n.connectorPk} AND latest.ts = cs.status_timestamp`,
    );
    const [open] = await conn.query<RowDataPacket[]>(
      `SELECT s.transaction_pk, s.${n.connectorPk} AS cpk, s.id_tag, s.start_value, s.start_timestamp FROM transaction_start s
       WHERE NOT EXISTS (SELECT 1 FROM transaction_stop p WHERE p.transaction_pk = s.transaction_pk) ORDER BY s.transaction_pk`,
    );
    const [meters] = await conn.query<RowDataPacket[]>(
      `SELECT m.* , m.${n.connectorPk} AS pk FROM connector_meter_value m
       JOIN (SELECT ${n.connectorPk} AS pk, MAX(value_timestamp) AS ts FROM connector_meter_value GROUP BY ${n.connectorPk}) latest
         ON latest.pk = m.${n.connectorPk} AND latest.ts = m.value_timestamp`,
    );
    await conn.query('COMMIT');
    let gtidRaw: unknown = point.gtid;
    if (method === 'mariadb') {
      const [g] = await conn.query<RowDataPacket[]>('SELECT BINLOG_GTID_POS(?, ?) AS gtid', [file, position]);
      gtidRaw = g[0]?.gtid;
    }

    const stations = new Map<string, Mutable>();
    const station = (id: string): Mutable => {
      let s = stations.get(id);
      if (!s) {
        s = { connectors: [], openTransactions: [], lastMeterValues: [] };
        stations.set(id, s);
      }
      return s;
    };
    for (const b of boxes) {
      station(textOr(b.charge_box_id, ''));
      topo.noteChargeBox(b);
    }
    for (const c of connectors) topo.addConnector(Number(c.pk), c);

    const current = new Map<number, CurrentStatus>();
    for (const s of statuses) {
      const pk = Number(s.pk);
      const ref = topo.connectors.get(pk);
      const timestamp = isoTime(s.status_timestamp) ?? '';
      if (!ref || (current.get(pk)?.timestamp ?? '') > timestamp) continue;
      current.set(pk, { status: textOr(s.status, ''), errorCode: textOr(s.error_code, ''), timestamp });
    }
    for (const [pk, c] of current) {
      const ref = topo.connectors.get(pk);
      if (ref) station(ref.chargeBoxId).connectors.push({ connectorId: ref.connectorId, ...c });
    }
    for (const t of open) {
      const transactionId = Number(t.transaction_pk);
      const ref = transactionRef(t, Number(t.cpk));
      topo.addTransaction(transactionId, ref);
      const c = topo.connectors.get(ref.connectorPk);
      if (!c) continue;
      station(c.chargeBoxId).openTransactions.push({
        transactionId,
        connectorId: c.connectorId,
        idTag: ref.idTag,
        meterStart: ref.meterStart ?? 0,
        startTime: ref.startTime ?? '',
      });
    }
    const samples = new Map<string, Mutable['lastMeterValues'][number]>();
    for (const m of meters) {
      const pk = Number(m.pk);
      const c = topo.connectors.get(pk);
      if (!c) continue;
      const transactionId = int(m.transaction_pk);
      const key = `${pk}|${transactionId ?? ''}`;
      let sample = samples.get(key);
      if (!sample) {
        sample = { connectorId: c.connectorId, ...(transactionId !== undefined ? { transactionId } : {}), timestamp: isoTime(m.value_timestamp) ?? '', sampledValues: [] };
        samples.set(key, sample);
        station(c.chargeBoxId).lastMeterValues.push(sample);
      }
      sample.sampledValues.push(sampledValue(m));
    }
    for (const s of stations.values()) s.connectors.sort((a, b) => a.connectorId - b.connectorId);
    return {
      gtid: gtidRaw === null || gtidRaw === undefined ? undefined : String(gtidRaw),
      file,
      position,
      stations,
      current,
    };
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    conn.release();
  }
}
