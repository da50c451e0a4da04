// The reader's ordinary SQL connections (start-up checks, snapshot, cache look-ups): a tiny pool whose
// sessions run in UTC, so TIMESTAMP columns read as strings come back in UTC like the binlog values.
import { isIP } from 'node:net';
import mysql from 'mysql2';
import type { Pool } from 'mysql2/promise';
import type { CdcConfig } from './config.js';

function sslOptions(tls: NonNullable<CdcConfig['tls']>, host: string): mysql.SslOptions {
  // mysql2 never falls back to plain TCP once ssl is set: a server without TLS fails the connection.
  if (tls.mode === 'required') return { rejectUnauthorized: false };
  // The host name is checked only for a name: mysql2 would compare an IP address with "localhost".
  const verifyIdentity = isIP(host) === 0;
  return tls.ca !== undefined ? { rejectUnauthorized: true, verifyIdentity, ca: tls.ca } : { rejectUnauthorized: true, verifyIdentity };
}

export function connectionOptions(config: CdcConfig): mysql.ConnectionOptions {
  return {
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    dateStrings: true,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    connectTimeout: 10_000,
    charset: 'utf8mb4',
    ...(config.tls !== undefined ? { ssl: sslOptions(config.tls, config.host) } : {}),
  };
}

/**
 * The binlog connection's options: TIMESTAMP values come as Date objects, not strings. The library builds a
 * value's "YYYY-MM-DD HH:MM:SS.ffffff" text digit by digit; that was a quarter of its time per meter row on
 * catch-up, and the reader turns every value into ISO 8601 anyway (values.ts isoTime; whole milliseconds both
 * ways, BENCHMARKS.md "Timestamps as dates").
 */
export function binlogOptions(config: CdcConfig): mysql.ConnectionOptions {
  return { ...connectionOptions(config), dateStrings: false };
}

export function createQueryPool(config: CdcConfig): Pool {
  const core = mysql.createPool({ ...connectionOptions(config), connectionLimit: 2, maxIdle: 1, idleTimeout: 30_000 });
  core.on('connection', (conn) => {
    conn.query("SET time_zone = '+00:00'");
  });
  return core.promise();
}
