// Column conversions the binlog reader applies to every row: the fast path and the general one must agree.
import { describe, expect, it } from 'vitest';
import { isoOfMs, isoTime } from '../../src/cdc/values.js';
import { classifyStatement, isBootUpdate, sampledValue } from '../../src/cdc/translate.js';

describe('isoTime', () => {
  it('turns the decoder\'s TIMESTAMP(6) strings into ISO UTC with milliseconds', () => {
    expect(isoTime('2026-02-01 13:04:05.123456')).toBe('2026-02-01T13:04:05.123Z');
    expect(isoTime('2026-02-01 13:04:05.000000')).toBe('2026-02-01T13:04:05.000Z');
  });

  it('handles the other shapes the same way as before', () => {
    expect(isoTime('2026-02-01 13:04:05')).toBe('2026-02-01T13:04:05.000Z');
    expect(isoTime('2026-02-01 13:04:05.1')).toBe('2026-02-01T13:04:05.100Z');
    expect(isoTime('2026-02-01T13:04:05.123456')).toBe('2026-02-01T13:04:05.123Z');
  });

  it('gives undefined for zero dates, NULL and strings that are not times', () => {
    expect(isoTime('0000-00-00 00:00:00.000000')).toBeUndefined();
    expect(isoTime('0000-00-00 00:00:00')).toBeUndefined();
    expect(isoTime(null)).toBeUndefined();
    expect(isoTime('2026-02-01 13:04:05.12345x')).toBeUndefined();
    expect(isoTime('not a time at all, 26 chars')).toBeUndefined();
  });

  it('takes the binlog\'s Date values (whole milliseconds), the zero TIMESTAMP (the epoch) as no time', () => {
    expect(isoTime(new Date(Date.UTC(2026, 1, 1, 13, 4, 5, 123)))).toBe('2026-02-01T13:04:05.123Z');
    expect(isoTime(new Date(0))).toBeUndefined();
    expect(isoTime(new Date(Number.NaN))).toBeUndefined();
  });
});

describe('isoOfMs', () => {
  it('writes what toISOString writes, for times in and across minutes, in any order', () => {
    const times = [0, 1, 999, 1000, 59_999, 60_000, 60_001, Date.UTC(2026, 1, 1, 13, 4, 59, 999), Date.UTC(2026, 1, 1, 13, 5, 0, 0), Date.UTC(2038, 0, 19, 3, 14, 7, 500), 253_402_300_799_999, 253_402_300_800_000, -1];
    let seed = 12345;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const base = Date.UTC(2026, 0, 1) + (seed % (400 * 86_400_000));
      times.push(base, base + (seed % 3) * 1000, base + 61_000);
    }
    for (const t of times) expect(isoOfMs(t)).toBe(new Date(t).toISOString());
  });
});

describe('sampledValue', () => {
  it('keeps only the columns that are set, entities decoded, with the OCPP default measurand', () => {
    expect(sampledValue({ value: '12.5', unit: 'kWh', reading_context: null, format: null, location: 'Outlet', phase: null, measurand: null })).toEqual({
      value: '12.5', measurand: 'Energy.Active.Import.Register', unit: 'kWh', location: 'Outlet',
    });
    expect(sampledValue({ value: 'a&amp;b', measurand: 'SoC' })).toEqual({ value: 'a&b', measurand: 'SoC' });
  });
});

describe('isBootUpdate', () => {
  it("recognises SteVe's BootNotification UPDATE and nothing else", () => {
    expect(isBootUpdate('UPDATE charge_box SET ocpp_protocol = ?, charge_point_vendor = ?, charge_point_model = ? WHERE charge_box_id = ?')).toBe(true);
    expect(isBootUpdate('update `stevedb`.`charge_box` set `ocpp_protocol` = \'ocpp1.6J\', `charge_point_vendor` = \'Rivot\'')).toBe(true);
    expect(isBootUpdate('UPDATE charge_box SET last_heartbeat_timestamp = ? WHERE charge_box_id = ?')).toBe(false);
    expect(isBootUpdate("UPDATE charge_box SET ocpp_protocol = 'ocpp1.6J' WHERE charge_box_id = ?")).toBe(false);
  });

  it('reads only the head of a long statement: a large INSERT is not a boot, even if a value names the column', () => {
    const values = Array.from({ length: 2000 }, (_, i) => `(1, NULL, '2026-02-01 00:00:00', '${i}', 'Sample.Periodic', 'SoC', '%')`).join(', ');
    expect(isBootUpdate(`INSERT INTO connector_meter_value VALUES ${values}, (1, NULL, 'update charge_point_vendor', '0', NULL, NULL, NULL)`)).toBe(false);
  });
});

describe('classifyStatement', () => {
  it("tells SteVe's own status INSERT (four columns) from a StatusNotification's (error_info, vendor_id… named even when NULL)", () => {
    // As jOOQ renders them (OcppServerRepositoryImpl.insertTransaction / updateTransaction / insertConnectorStatus).
    expect(classifyStatement("insert into `stevedb`.`connector_status` (`evse_pk`, `status_timestamp`, `status`, `error_code`) values (7, '2026-03-01 10:05:01.000000', 'Charging', 'NoError')")).toBe('syntheticStatus');
    expect(classifyStatement("insert into `stevedb`.`connector_status` (`connector_pk`, `status_timestamp`, `status`, `error_code`) values ((select `stevedb`.`transaction_start`.`connector_pk` from `stevedb`.`transaction_start` where `stevedb`.`transaction_start`.`transaction_pk` = 3), '2026-03-01 10:09:00', 'Available', 'NoError')")).toBe('syntheticStatus');
    expect(classifyStatement("insert into `stevedb`.`connector_status` (`evse_pk`, `status_timestamp`, `status`, `error_code`, `error_info`, `vendor_id`, `vendor_error_code`) values (7, '2026-03-01 10:05:01', 'Charging', 'NoError', null, null, null)")).toBe('other');
    expect(classifyStatement('INSERT INTO connector_meter_value (evse_pk, value) VALUES (1, 2)')).toBe('other');
    expect(classifyStatement('UPDATE charge_box SET ocpp_protocol = ?, charge_point_vendor = ? WHERE charge_box_id = ?')).toBe('bootUpdate');
  });
});
