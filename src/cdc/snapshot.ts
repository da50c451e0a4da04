// A consistent read of SteVe's current state and the binlog point it corresponds to (MariaDB, lock-free):
// START TRANSACTION WITH CONSISTENT SNAPSHOT, binlog_snapshot_file/position, BINLOG_GTID_POS. Streaming then
// starts at exactly that point, so nothing is missed and nothing is counted twice.
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { EventDataMap } from '../events/catalogue.js';
import { GatewayError } from '../errors.js';
import type { SteveNaming } from './schema.js';
import { transactionRef, type Topology } from './topology.js';
import { sampledValue, type CurrentStatus } from './translate.js';
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

export async function takeSnapshot(db: Pool, naming: SteveNaming, topo: Topology, mariadb: boolean): Promise<Snapshot> {
  if (!mariadb) {
    throw new GatewayError(
      'GW_ERR_CONFIG',
      'SteVe database: a consistent snapshot is needed (no checkpoint, or its binlog was purged) but is implemented for MariaDB only. ' +
        'Fix: on MySQL, seed DATA_DIR/cdc/checkpoint.json with the current {"gtid": @@gtid_executed} and restart.',
      { variable: 'STEVE_DB_URL', check: 'snapshot' },
    );
  }
  const n = naming;
  const conn = await db.getConnection();
  try {
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [status] = await conn.query<RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
    const vars = new Map(status.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]));
    const file = vars.get('binlog_snapshot_file') ?? '';
    const position = Number(vars.get('binlog_snapshot_position') ?? 0);

    const [boxes] = await conn.query<RowDataPacket[]>('SELECT charge_box_id FROM charge_box');
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
    const [g] = await conn.query<RowDataPacket[]>('SELECT BINLOG_GTID_POS(?, ?) AS gtid', [file, position]);
    const gtidRaw = g[0]?.gtid;

    const stations = new Map<string, Mutable>();
    const station = (id: string): Mutable => {
      let s = stations.get(id);
      if (!s) {
        s = { connectors: [], openTransactions: [], lastMeterValues: [] };
        stations.set(id, s);
      }
      return s;
    };
    for (const b of boxes) station(textOr(b.charge_box_id, ''));
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
