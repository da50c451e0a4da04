// Start-up checks: each misconfiguration of SteVe's database server stops start() with a message naming the
// problem and the fix; softer problems are logged as warnings. Also the environment parsing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { parseCdcConfig } from '../../src/cdc/index.js';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { makeReader, tempDir } from './harness.js';

async function startError(url: string): Promise<GatewayError> {
  const rig = makeReader(url, await tempDir());
  try {
    await rig.reader.start();
  } catch (err) {
    expect(rig.reader.health().state).toBe('failed');
    return err as GatewayError;
  }
  await rig.reader.stop();
  throw new Error('start() succeeded');
}

describe('server without binlog', () => {
  let server: PrivateMariadb;
  beforeAll(async () => {
    server = await startMariadb({ binlog: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('binlog off → names log_bin and the server settings to add', async () => {
    const url = await createSteveDatabase(server, { database: 'stevedb', generation: '3.13' });
    const err = await startError(url);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('GW_ERR_CONFIG');
    expect(err.message).toMatch(/binary log is off .*log_bin=OFF/);
    expect(err.message).toMatch(/Fix: .*log-bin.*binlog-format=ROW.*sql\/server-binlog\.cnf/);
  });
});

describe('server with binlog', () => {
  let server: PrivateMariadb;
  let url: string;
  beforeAll(async () => {
    server = await startMariadb();
    url = await createSteveDatabase(server, { database: 'stevedb', generation: '3.12' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('binlog_format not ROW', async () => {
    await server.query("SET GLOBAL binlog_format = 'MIXED'");
    try {
      const err = await startError(url);
      expect(err.message).toMatch(/binlog_format is MIXED, but the reader needs ROW/);
      expect(err.message).toMatch(/Fix: binlog-format=ROW/);
    } finally {
      await server.query("SET GLOBAL binlog_format = 'ROW'");
    }
  });

  it('binlog_row_image not FULL', async () => {
    await server.query("SET GLOBAL binlog_row_image = 'MINIMAL'");
    try {
      const err = await startError(url);
      expect(err.message).toMatch(/binlog_row_image is MINIMAL, but the reader needs FULL/);
      expect(err.message).toMatch(/Fix: binlog-row-image=FULL/);
    } finally {
      await server.query("SET GLOBAL binlog_row_image = 'FULL'");
    }
  });

  it('missing grants: each missing privilege named, with the GRANT statements', async () => {
    await server.query("CREATE USER 'weak'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON stevedb.* TO 'weak'@'%'");
    const err = await startError(server.url('weak', 'pw', 'stevedb'));
    expect(err.message).toMatch(/account 'weak' lacks REPLICATION SLAVE .*; REPLICATION CLIENT/);
    expect(err.message).not.toMatch(/lacks.*SELECT on/);
    expect(err.message).toMatch(/Fix: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON \*\.\*/);

    await server.query("CREATE USER 'nosel'@'%' IDENTIFIED BY 'pw'; GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'nosel'@'%'");
    const err2 = await startError(server.url('nosel', 'pw', 'stevedb'));
    expect(err2.message).toMatch(/account 'nosel' lacks SELECT on stevedb\.\*.*Fix: GRANT SELECT ON stevedb\.\*/);
    await server.query("GRANT SELECT ON stevedb.charge_box TO 'nosel'@'%'");
    const err3 = await startError(server.url('nosel', 'pw', 'stevedb'));
    expect(err3.message).toMatch(/lacks SELECT on stevedb\.connector_status, connector_meter_value, transaction_start, transaction_stop, transaction_stop_failed, connector/);
  });

  it('tables missing: names them and the schema to point at', async () => {
    await server.query("CREATE DATABASE empty_db; GRANT SELECT ON empty_db.* TO 'cdc'@'%'");
    const err = await startError(server.url('cdc', 'cdc-secret', 'empty_db'));
    expect(err.message).toMatch(/SteVe's tables are missing in database 'empty_db': charge_box, connector_status, .*connector or evse/);
    expect(err.message).toMatch(/Fix: point STEVE_DB_URL at the schema SteVe uses/);
  });

  it('wrong password and unknown database are configuration errors too', async () => {
    const bad = await startError(server.url('cdc', 'wrong', 'stevedb'));
    expect(bad.message).toMatch(/login as 'cdc' .* was refused.*Fix: check the user and password in STEVE_DB_URL/);
    await server.query("GRANT SELECT ON nothere.* TO 'cdc'@'%'");
    const none = await startError(server.url('cdc', 'cdc-secret', 'nothere'));
    expect(none.message).toMatch(/database 'nothere' does not exist/);
  });

  it('row metadata not FULL and a non-UTC server zone → warnings, and the reader still starts', async () => {
    await server.query("SET GLOBAL binlog_row_metadata = 'MINIMAL'; SET GLOBAL time_zone = '+02:00'");
    try {
      const rig = makeReader(url, await tempDir());
      await rig.reader.start();
      await rig.waitFor(() => rig.reader.health().state === 'streaming');
      const warnings = rig.logs.filter((l) => l.level === 40).map((l) => String(l.msg));
      expect(warnings.some((m) => /binlog_row_metadata is MINIMAL.*Fix: binlog-row-metadata=FULL/.test(m))).toBe(true);
      expect(warnings.some((m) => /time zone is \+02:00, not UTC/.test(m))).toBe(true);
      await rig.reader.stop();
      expect(rig.reader.health().state).toBe('stopped');
    } finally {
      await server.query("SET GLOBAL binlog_row_metadata = 'FULL'; SET GLOBAL time_zone = '+00:00'");
    }
  });

  it('an unreachable server is not fatal: start() resolves, the reader keeps retrying and reports it', async () => {
    const rig = makeReader('mysql://cdc:x@127.0.0.1:1/stevedb', await tempDir());
    await rig.reader.start();
    await rig.waitFor(() => rig.reader.health().state === 'reconnecting');
    expect(rig.reader.health().lastError?.message).toMatch(/ECONNREFUSED/);
    await rig.reader.stop();
  });
});

describe('parseCdcConfig', () => {
  it('is off without STEVE_DB_URL', () => {
    expect(parseCdcConfig({})).toBeUndefined();
  });

  it('reads the URL, server id, heartbeat and backoff', () => {
    expect(
      parseCdcConfig({ STEVE_DB_URL: 'mysql://c%40dc:p%3Ass@db.local:3307/stevedb', CDC_SERVER_ID: '42', CDC_HEARTBEAT_MS: '2000', CDC_RECONNECT_MAX_MS: '9000' }),
    ).toEqual({ host: 'db.local', port: 3307, user: 'c@dc', password: 'p:ss', database: 'stevedb', serverId: 42, heartbeatMs: 2000, reconnectMinMs: 500, reconnectMaxMs: 9000 });
  });

  it('runs the reader in a thread of its own with CDC_READER_THREAD=on; CDC_THREAD_YOUNG_MB sizes its young generation', () => {
    const url = 'mysql://cdc:x@h/stevedb';
    expect(parseCdcConfig({ STEVE_DB_URL: url, CDC_READER_THREAD: 'on' })?.thread).toEqual({ youngGenerationMb: 48 });
    expect(parseCdcConfig({ STEVE_DB_URL: url, CDC_READER_THREAD: 'on', CDC_THREAD_YOUNG_MB: '96' })?.thread).toEqual({ youngGenerationMb: 96 });
    expect(parseCdcConfig({ STEVE_DB_URL: url })?.thread).toBeUndefined();
    expect(() => parseCdcConfig({ STEVE_DB_URL: url, CDC_READER_THREAD: 'maybe' })).toThrow(/CDC_READER_THREAD/);
  });

  it('rejects a URL without database or user, and a bad server id, naming the variable', () => {
    expect(() => parseCdcConfig({ STEVE_DB_URL: 'mysql://cdc:x@h:3306/' })).toThrow(/STEVE_DB_URL must name SteVe's database/);
    expect(() => parseCdcConfig({ STEVE_DB_URL: 'mysql://h:3306/stevedb' })).toThrow(/STEVE_DB_URL must carry the CDC user/);
    expect(() => parseCdcConfig({ STEVE_DB_URL: 'http://cdc:x@h/stevedb' })).toThrow(/STEVE_DB_URL/);
    expect(() => parseCdcConfig({ STEVE_DB_URL: 'mysql://cdc:x@h/stevedb', CDC_SERVER_ID: '0' })).toThrow(/CDC_SERVER_ID/);
  });
});
