// flashCharge vendor DataTransfer parsing: encodings, optional fields, model and range rules, malformed input.
import { describe, expect, it } from 'vitest';
import { decodeHtmlEntities, deriveVehicle, interpretDataTransfer, modelFromMaxCurrent } from '../../src/events/vehicle.js';

const opts = { vendorId: 'RivotMotors', kmPerAh: 2.7 };
const pcd = (messageId: string, data: unknown) => interpretDataTransfer({ vendorId: 'RivotMotors', messageId, data }, opts);

describe('HTML entity decoding (SteVe stores data OWASP-encoded)', () => {
  it('decodes named, decimal and hex entities once, and leaves unknown ones alone', () => {
    expect(decodeHtmlEntities('{&#34;soc&#34;:42,&quot;m&quot;:&#x27;a&amp;b&#39;}')).toBe(`{"soc":42,"m":'a&b'}`);
    expect(decodeHtmlEntities('&lt;x&gt; &amp;quot; &bogus; &#xZZ;')).toBe('<x> &quot; &bogus; &#xZZ;');
    expect(decodeHtmlEntities('plain')).toBe('plain');
  });
});

describe('PreChargeData / VehicleInfo', () => {
  it('reads an HTML-encoded PreChargeData string with every field', () => {
    const r = pcd('PreChargeData', '{&quot;soc&quot;:42,&quot;maxCurrent&quot;:35,&quot;voltage&quot;:75.74,&quot;current&quot;:0,&quot;temperature&quot;:25.6}');
    expect(r.type).toBe('preChargeData');
    expect(r.findings).toEqual([]);
    if (r.type !== 'preChargeData') throw new Error('unreachable');
    // 35 A → Pro, 60 Ah: max range 162 km, range 42 % of it.
    expect(r.data).toEqual({
      soc: 42, maxCurrent: 35, voltage: 75.74, current: 0, temperature: 25.6, model: 'Pro', batteryAh: 60, maxRange: 162, range: 68.04,
      messageId: 'PreChargeData', vendorId: 'RivotMotors',
    });
  });

  it('reads VehicleInfo with &#34; encoding and keeps the firmware model and range', () => {
    const r = pcd('VehicleInfo', '{&#34;soc&#34;:84.77,&#34;maxCurrent&#34;:2,&#34;model&#34;:&#34;Classic&#34;,&#34;range&#34;:68.67}');
    if (r.type !== 'preChargeData') throw new Error(`got ${r.type}`);
    expect(r.data).toMatchObject({ soc: 84.77, maxCurrent: 2, model: 'Classic', range: 68.67, batteryAh: 30, maxRange: 81, messageId: 'VehicleInfo' });
  });

  it('accepts an object instead of a string, and a plain JSON string', () => {
    const a = pcd('VehicleInfo', { soc: 50, model: 'Max' });
    const b = pcd('VehicleInfo', '{"soc":50,"model":"Max"}');
    if (a.type !== 'preChargeData' || b.type !== 'preChargeData') throw new Error('unreachable');
    expect(a.data).toEqual(b.data);
    expect(a.data).toMatchObject({ soc: 50, model: 'Max', batteryAh: 90, maxRange: 243, range: 121.5 });
  });

  it('treats every field as optional', () => {
    const r = pcd('PreChargeData', '{}');
    if (r.type !== 'preChargeData') throw new Error('unreachable');
    expect(r.data).toEqual({ messageId: 'PreChargeData', vendorId: 'RivotMotors' });
    expect(r.findings).toEqual([]);
  });

  it('turns malformed data into findings, never an exception', () => {
    for (const bad of ['{soc:42', '[1,2]', '42', null, 17, ['x'], '{&quot;soc&quot;:']) {
      const r = pcd('PreChargeData', bad);
      expect(r.type).toBe('none');
      expect(r.findings).toHaveLength(1);
      expect(r.findings[0]).toMatchObject({ rule: 'vendorData', field: 'data' });
    }
  });

  it('drops single bad fields with a finding and keeps the rest', () => {
    const r = pcd('PreChargeData', '{"soc":"lots","maxCurrent":20,"model":7,"voltage":"74.5","temperature":null}');
    if (r.type !== 'preChargeData') throw new Error('unreachable');
    expect(r.data).toMatchObject({ maxCurrent: 20, voltage: 74.5, model: 'Classic', batteryAh: 30 });
    expect(r.data.soc).toBeUndefined();
    expect(r.findings.map((f) => f.field).sort()).toEqual(['model', 'soc']);
    const out = pcd('PreChargeData', '{"soc":140}');
    expect(out.findings[0]).toMatchObject({ field: 'soc' });
  });

  it('leaves other vendors (and our unknown messages) as dataTransfer, decoded', () => {
    const r = interpretDataTransfer({ vendorId: 'Other', messageId: 'PreChargeData', data: '{&quot;a&quot;:1}' }, opts);
    expect(r).toEqual({ type: 'dataTransfer', data: { vendorId: 'Other', messageId: 'PreChargeData', data: '{"a":1}' }, findings: [] });
    expect(interpretDataTransfer({ vendorId: 'RivotMotors', messageId: 'Firmware' }, opts).type).toBe('dataTransfer');
  });

  it('honours a configured vendor id and km-per-Ah', () => {
    const r = interpretDataTransfer({ vendorId: 'Acme', messageId: 'VehicleInfo', data: '{"soc":50,"maxCurrent":60}' }, { vendorId: 'Acme', kmPerAh: 2.8 });
    if (r.type !== 'preChargeData') throw new Error('unreachable');
    expect(r.data).toMatchObject({ model: 'Pro', maxRange: 168, range: 84 });
  });
});

describe('model and range rules', () => {
  it('derives the model from maxCurrent at ≤30 / ≤60 / above', () => {
    expect([0, 2, 30, 30.5, 60, 61, 100].map(modelFromMaxCurrent)).toEqual(['Classic', 'Classic', 'Classic', 'Pro', 'Pro', 'Max', 'Max']);
  });

  it('sizes known model names (also the old backend spelling) and ignores "Unknown"', () => {
    expect(deriveVehicle({ model: 'NX-100 PRO', soc: 100 }, 2.7)).toMatchObject({ batteryAh: 60, maxRange: 162, range: 162 });
    expect(deriveVehicle({ model: 'Unknown', maxCurrent: 90 }, 2.7)).toMatchObject({ model: 'Max', batteryAh: 90, maxRange: 243 });
    expect(deriveVehicle({ model: 'Roadster' }, 2.7)).toEqual({ model: 'Roadster' });
  });
});

describe('SessionSummary and BMSAlert', () => {
  it('reads SessionSummary (energy in Wh)', () => {
    const r = pcd('SessionSummary', '{&quot;finalSoc&quot;:87.18,&quot;energyDelivered&quot;:3.39,&quot;durationMinutes&quot;:1.5}');
    expect(r).toEqual({ type: 'sessionSummary', data: { finalSoc: 87.18, energyDelivered: 3.39, durationMinutes: 1.5 }, findings: [] });
  });

  it('reads BMSAlert and what it means for charging permission', () => {
    const off = pcd('BMSAlert', '{"alertType":"BMS_CHARGING_DISABLED","message":"BMS not ready for charging","timestamp":123456}');
    expect(off).toMatchObject({ type: 'bmsAlert', data: { alert: 'BMS_CHARGING_DISABLED', permission: false } });
    const on = pcd('BMSAlert', { alertType: 'BMS_CHARGING_ENABLED' });
    expect(on).toMatchObject({ type: 'bmsAlert', data: { permission: true } });
  });
});
