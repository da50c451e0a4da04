// Start-up checks against SteVe's database server: each failure names the problem and the fix.
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { GatewayError } from '../errors.js';
import type { CdcConfig } from './config.js';
import { NAMING, OPTIONAL_TABLES, REQUIRED_TABLES, type SteveNaming } from './schema.js';

export interface ServerFacts {
  readonly version: string;
  readonly mariadb: boolean;
  readonly naming: SteveNaming;
  readonly optionalTables: readonly string[];
  /** Things that work but deserve an operator's attention. */
  readonly warnings: readonly string[];
}

const SERVER_FIX = 'see sql/server-binlog.cnf in chargebridge';
const GRANT_FIX = 'see sql/cdc-grants.sql in chargebridge';

function fail(check: string, message: string): never {
  throw new GatewayError('GW_ERR_CONFIG', `SteVe database: ${message}`, { variable: 'STEVE_DB_URL', check });
}

// mysql2 reports every failed TLS negotiation as HANDSHAKE_SSL_ERROR (the certificate's own code is only in the text).
const TLS_CERT_ERRORS = new Set([
  'HANDSHAKE_SSL_ERROR',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Errors that mean "this configuration cannot work", as opposed to "the server is not reachable right now". */
export function configProblem(err: unknown, config: CdcConfig): GatewayError | undefined {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: string }).code;
  if (code === 'ER_DBACCESS_DENIED_ERROR') {
    return new GatewayError(
      'GW_ERR_CONFIG',
      `SteVe database: the account '${config.user}' lacks SELECT on ${config.database}.* (it may not even open the database). ` +
        `Fix: GRANT SELECT ON ${config.database}.* TO '${config.user}'@'<gateway host>'; (${GRANT_FIX}).`,
      { variable: 'STEVE_DB_URL', check: 'grants' },
    );
  }
  if (code === 'ER_ACCESS_DENIED_ERROR') {
    // MariaDB answers a plain connection to a server or account that requires TLS with this same error.
    const tlsHint = config.tls === undefined ? ' If the server requires TLS (require_secure_transport, or an account with REQUIRE SSL), set CDC_TLS=required.' : '';
    return new GatewayError(
      'GW_ERR_CONFIG',
      `SteVe database: login as '${config.user}' to ${config.host}:${config.port}/${config.database} was refused (${(err as Error).message}). ` +
        `Fix: check the user and password in STEVE_DB_URL and that the account may connect from this host (${GRANT_FIX}); ` +
        `on a fresh MariaDB the anonymous accounts (''@'localhost') shadow '${config.user}'@'%' for local connections: drop them (DROP USER ''@'localhost';) or create the account for the exact host.${tlsHint}`,
      { variable: 'STEVE_DB_URL', check: 'login' },
    );
  }
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return new GatewayError(
      'GW_ERR_CONFIG',
      `SteVe database: CDC_TLS=${config.tls?.mode ?? 'off'} but ${config.host}:${config.port} offers no TLS. Fix: give the server ssl-cert/ssl-key, or set CDC_TLS=off.`,
      { variable: 'CDC_TLS', check: 'tls' },
    );
  }
  if (code !== undefined && TLS_CERT_ERRORS.has(code)) {
    return new GatewayError(
      'GW_ERR_CONFIG',
      `SteVe database: TLS with the server failed; its certificate was not accepted (${(err as Error).message}). ` +
        `Fix: point CDC_TLS_CA_FILE at the CA that signed it (and connect by a name or address the certificate lists), or use CDC_TLS=required to encrypt without checking it.`,
      { variable: 'CDC_TLS_CA_FILE', check: 'tls' },
    );
  }
  if (code === 'ER_BAD_DB_ERROR') {
    return new GatewayError(
      'GW_ERR_CONFIG',
      `SteVe database: database '${config.database}' does not exist on ${config.host}:${config.port}. Fix: put SteVe's schema name (often stevedb) in the path of STEVE_DB_URL.`,
      { variable: 'STEVE_DB_URL', check: 'database' },
    );
  }
  return undefined;
}

interface Grants {
  global: Set<string>;
  onDb: Set<string>;
  onTables: Map<string, Set<string>>;
}

function parseGrants(lines: readonly string[], database: string): Grants {
  const g: Grants = { global: new Set(), onDb: new Set(), onTables: new Map() };
  const unquote = (s: string): string => s.replace(/^[`'"]|[`'"]$/g, '');
  for (const line of lines) {
    const m = /^GRANT (.+?) ON (\S+) TO /i.exec(line);
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    const privs = m[1].split(',').map((p) => p.trim().replace(/\s*\(.*\)$/, '').toUpperCase());
    const target = m[2];
    const dot = target.indexOf('.');
    const db = unquote(target.slice(0, dot));
    const table = unquote(target.slice(dot + 1));
    let into: Set<string>;
    if (db === '*') into = g.global;
    else if (db.toLowerCase() !== database.toLowerCase()) continue;
    else if (table === '*') into = g.onDb;
    else {
      into = g.onTables.get(table) ?? new Set();
      g.onTables.set(table, into);
    }
    for (const p of privs) into.add(p === 'ALL' ? 'ALL PRIVILEGES' : p);
  }
  return g;
}

function has(set: Set<string>, ...names: string[]): boolean {
  return set.has('ALL PRIVILEGES') || names.some((n) => set.has(n));
}

export async function checkServer(db: Pool, config: CdcConfig): Promise<ServerFacts> {
  const [vars] = await db.query<RowDataPacket[]>(
    `SELECT VERSION() AS version, @@GLOBAL.log_bin AS log_bin, @@GLOBAL.binlog_format AS binlog_format,
            @@GLOBAL.binlog_row_image AS binlog_row_image, @@GLOBAL.time_zone AS time_zone, @@system_time_zone AS system_time_zone`,
  );
  const v: Record<string, unknown> = vars[0] ?? {};
  const version = String(v.version ?? '');
  const mariadb = /mariadb/i.test(version);
  const warnings: string[] = [];

  if (String(v.log_bin) !== '1' && String(v.log_bin).toUpperCase() !== 'ON') {
    fail(
      'log_bin',
      `the binary log is off on ${config.host}:${config.port} (log_bin=OFF), so there is nothing to follow. ` +
        `Fix: start the server with log-bin, binlog-format=ROW, binlog-row-image=FULL, binlog-row-metadata=FULL and a server-id (${SERVER_FIX}), then restart it.`,
    );
  }
  if (String(v.binlog_format).toUpperCase() !== 'ROW') {
    fail(
      'binlog_format',
      `binlog_format is ${String(v.binlog_format)}, but the reader needs ROW: statement-based entries do not carry the rows SteVe wrote. ` +
        `Fix: binlog-format=ROW in the server config (${SERVER_FIX}) and restart the server; SET GLOBAL binlog_format='ROW' only reaches new sessions, so restart SteVe too.`,
    );
  }
  if (String(v.binlog_row_image).toUpperCase() !== 'FULL') {
    fail(
      'binlog_row_image',
      `binlog_row_image is ${String(v.binlog_row_image)}, but the reader needs FULL to see whole rows (before and after images). ` +
        `Fix: binlog-row-image=FULL in the server config (${SERVER_FIX}) and restart the server (or SET GLOBAL binlog_row_image='FULL' and restart SteVe).`,
    );
  }
  try {
    const [meta] = await db.query<RowDataPacket[]>('SELECT @@GLOBAL.binlog_row_metadata AS m');
    const m = String(meta[0]?.m ?? '');
    if (m.toUpperCase() !== 'FULL') {
      warnings.push(
        `binlog_row_metadata is ${m}: rows are decoded against the current table layout, so rows written before an ALTER TABLE ` +
          `(e.g. a SteVe upgrade) may be mislabelled when replayed. Fix: binlog-row-metadata=FULL (${SERVER_FIX}).`,
      );
    }
  } catch {
    warnings.push(`this server has no binlog_row_metadata (MariaDB < 10.5 / MySQL < 8.0): rows written before an ALTER TABLE may be mislabelled when replayed.`);
  }
  const tz = String(v.time_zone);
  const utc = (z: string): boolean => /^(\+00:00|UTC|GMT|Etc\/UTC|Z|00:00)$/i.test(z);
  if (!(utc(tz) || (tz.toUpperCase() === 'SYSTEM' && utc(String(v.system_time_zone))))) {
    warnings.push(
      `the server time zone is ${tz}${tz.toUpperCase() === 'SYSTEM' ? ` (${String(v.system_time_zone)})` : ''}, not UTC as SteVe requires: ` +
        `DATETIME values (reservations) and NOW()-filled columns would be off. Fix: default-time-zone=+00:00 (${SERVER_FIX}).`,
    );
  }

  const [grantRows] = await db.query<RowDataPacket[]>('SHOW GRANTS');
  const grants = parseGrants(grantRows.map((r) => String(Object.values(r)[0] ?? '')), config.database);
  const missing: string[] = [];
  if (!has(grants.global, 'REPLICATION SLAVE', 'REPLICATION REPLICA')) missing.push('REPLICATION SLAVE (read the binlog as a replica)');
  if (!has(grants.global, 'REPLICATION CLIENT', 'BINLOG MONITOR')) missing.push('REPLICATION CLIENT (list binlogs; BINLOG MONITOR on MariaDB)');

  const [tableRows] = await db.query<RowDataPacket[]>(
    'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
    [config.database],
  );
  const tables = new Set(tableRows.map((r) => String(r.t)));
  const selectOk = (t: string): boolean =>
    has(grants.global, 'SELECT') || has(grants.onDb, 'SELECT') || has(grants.onTables.get(t) ?? new Set(), 'SELECT');
  const generation = tables.has('evse') ? 'evse' : tables.has('connector') ? 'connector' : undefined;
  const needed = [...REQUIRED_TABLES, generation ?? 'connector'];
  const noSelect = needed.filter((t) => !selectOk(t));
  if (noSelect.length > 0) missing.push(`SELECT on ${config.database}.${noSelect.length === needed.length ? '*' : noSelect.join(', ')} (snapshot and cache reads)`);
  if (missing.length > 0) {
    fail(
      'grants',
      `the account '${config.user}' lacks ${missing.join('; ')}. ` +
        `Fix: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${config.user}'@'<gateway host>'; GRANT SELECT ON ${config.database}.* TO '${config.user}'@'<gateway host>'; (${GRANT_FIX}).`,
    );
  }

  const absent = [...REQUIRED_TABLES.filter((t) => !tables.has(t)), ...(generation === undefined ? ['connector or evse'] : [])];
  if (absent.length > 0) {
    fail(
      'tables',
      `SteVe's tables are missing in database '${config.database}': ${absent.join(', ')}. ` +
        `Fix: point STEVE_DB_URL at the schema SteVe uses (its db.schema setting, often stevedb), or create the tables (sql/steve-schema-*.sql for tests).`,
    );
  }
  if (!mariadb && !has(grants.global, 'RELOAD')) {
    warnings.push(
      `the account '${config.user}' lacks RELOAD: on MySQL the consistent snapshot (first start, purged binlog) holds writes for a moment ` +
        `with FLUSH TABLES WITH READ LOCK, which needs it. Streaming from a checkpoint works without. Fix: GRANT RELOAD ON *.* (${GRANT_FIX}).`,
    );
  }
  return {
    version,
    mariadb,
    naming: NAMING[generation ?? 'connector'],
    optionalTables: OPTIONAL_TABLES.filter((t) => tables.has(t)),
    warnings,
  };
}

/** Which SteVe generation the schema is now (re-checked when a SteVe upgrade renames tables under a running reader). */
export async function detectNaming(db: Pool, database: string): Promise<SteveNaming> {
  const [rows] = await db.query<RowDataPacket[]>(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('evse', 'connector')",
    [database],
  );
  return NAMING[rows.some((r) => r.t === 'evse') ? 'evse' : 'connector'];
}
