// The reader's ordinary SQL connections (start-up checks, snapshot, cache look-ups): a tiny pool whose
// sessions run in UTC, so TIMESTAMP columns read as strings come back in UTC like the binlog values.
import mysql from 'mysql2';
import type { Pool } from 'mysql2/promise';
import type { CdcConfig } from './config.js';

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
  };
}

export function createQueryPool(config: CdcConfig): Pool {
  const core = mysql.createPool({ ...connectionOptions(config), connectionLimit: 2, maxIdle: 1, idleTimeout: 30_000 });
  core.on('connection', (conn) => {
    conn.query("SET time_zone = '+00:00'");
  });
  return core.promise();
}
