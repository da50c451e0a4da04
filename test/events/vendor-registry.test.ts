// Vendor DataTransfer messages by schema: the shipped flashCharge files, an operator's new message added as a file
// (decoded without code changes, also end to end through a real gateway), and clear errors for bad files.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { SourceRule } from '../../src/events/source-rule.js';
import { interpretDataTransfer } from '../../src/events/vehicle.js';
import { BUILTIN_VENDOR_MESSAGES_DIR, VendorMessageError, VendorRegistry } from '../../src/events/vendor-registry.js';
import { startGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-vendor-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const CELL_TEMPS = {
  vendorId: 'Acme',
  messageId: 'CellTemps',
  schema: {
    type: 'object',
    required: ['cells'],
    properties: { cells: { type: 'array', items: { type: 'number' } }, pack: { type: 'string' }, hot: { type: 'boolean' } },
  },
  emits: {
    type: 'vendorEvent',
    fields: {
      first: { from: 'cells.0', as: 'number' },
      second: { from: 'cells.1', as: 'number', min: -40, max: 90 },
      pack: { from: 'pack', as: 'string' },
      level: { from: 'pack', as: 'string', map: { A: 1, B: 2 } },
      all: { from: 'cells', as: 'json' },
    },
  },
};

const ACME_SOC = `
vendorId: Acme
messageId: Soc
schema: { type: object, properties: { pct: { type: [number, string] }, amps: { type: number } } }
emits:
  type: preChargeData
  derive: vehicle
  fields:
    soc: { from: pct, as: number, min: 0, max: 100 }
    maxCurrent: { from: amps, as: number }
`;

const opts = (registry: VendorRegistry) => ({ vendorId: 'RivotMotors', kmPerAh: 2.7, registry });

describe('the shipped registry', () => {
  it('holds the flashCharge messages, keyed by the configured vendor', () => {
    const reg = VendorRegistry.load([BUILTIN_VENDOR_MESSAGES_DIR]);
    expect(reg.entries().map((m) => m.messageId).sort()).toEqual(['BMSAlert', 'PreChargeData', 'SessionSummary', 'VehicleInfo']);
    expect(reg.get('RivotMotors', 'VehicleInfo', 'RivotMotors')?.emits.type).toBe('preChargeData');
    expect(reg.get('Acme', 'VehicleInfo', 'Acme')?.emits.type).toBe('preChargeData');
    expect(reg.get('Acme', 'VehicleInfo', 'RivotMotors')).toBeUndefined();
  });

  it('keeps the flashCharge behaviour: HTML-encoded and double-encoded JSON, model and range from current', () => {
    const reg = VendorRegistry.load([BUILTIN_VENDOR_MESSAGES_DIR]);
    const double = JSON.stringify(JSON.stringify({ soc: 50, maxCurrent: 25 }));
    const r = interpretDataTransfer({ vendorId: 'RivotMotors', messageId: 'PreChargeData', data: double.replace(/"/g, '&quot;') }, opts(reg));
    expect(r).toEqual({
      type: 'preChargeData', findings: [],
      data: { soc: 50, maxCurrent: 25, model: 'Classic', batteryAh: 30, maxRange: 81, range: 40.5, messageId: 'PreChargeData', vendorId: 'RivotMotors' },
    });
  });

  it('lets an operator file replace a shipped message (decoding really goes through the files)', () => {
    const dir = dirWith({ 'session.json': { vendorId: '$EVENTS_VENDOR_ID', messageId: 'SessionSummary', schema: { type: 'object' }, emits: { type: 'sessionSummary', fields: { energyDelivered: { from: 'wh', as: 'number' } } } } });
    const reg = VendorRegistry.load([BUILTIN_VENDOR_MESSAGES_DIR, dir]);
    const r = interpretDataTransfer({ vendorId: 'RivotMotors', messageId: 'SessionSummary', data: '{"wh":12,"energyDelivered":99}' }, opts(reg));
    expect(r).toEqual({ type: 'sessionSummary', data: { energyDelivered: 12 }, findings: [] });
  });
});

describe('a new vendor message added as a file', () => {
  it('is decoded into a vendorEvent by its schema and field rules', () => {
    const reg = VendorRegistry.load([BUILTIN_VENDOR_MESSAGES_DIR, dirWith({ 'acme-cells.json': CELL_TEMPS })]);
    const r = interpretDataTransfer({ vendorId: 'Acme', messageId: 'CellTemps', data: '{&quot;cells&quot;:[21.5,22,23],&quot;pack&quot;:&quot;B&quot;}' }, opts(reg));
    expect(r).toEqual({
      type: 'vendorEvent', findings: [],
      data: { vendorId: 'Acme', messageId: 'CellTemps', values: { first: 21.5, second: 22, pack: 'B', level: 2, all: [21.5, 22, 23] } },
    });
  });

  it('turns invalid data into findings: a bad property is left out, a bad object is rejected', () => {
    const reg = VendorRegistry.load([BUILTIN_VENDOR_MESSAGES_DIR, dirWith({ 'acme-cells.json': CELL_TEMPS })]);
    const partly = interpretDataTransfer({ vendorId: 'Acme', messageId: 'CellTemps', data: { cells: [20, 95], pack: 7 } }, opts(reg));
    expect(partly.type).toBe('vendorEvent');
    if (partly.type !== 'vendorEvent') throw new Error('unreachable');
    expect(partly.data.values).toEqual({ first: 20, all: [20, 95] });
    expect(partly.findings.map((f) => [f.rule, f.field])).toEqual([['vendorData', 'pack'], ['vendorData', 'cells.1']]);
    expect(partly.findings[1]!.message).toBe('cells.1 95 is outside -40..90');

    const rejected = interpretDataTransfer({ vendorId: 'Acme', messageId: 'CellTemps', data: { pack: 'A' } }, opts(reg));
    expect(rejected.type).toBe('none');
    expect(rejected.findings[0]).toMatchObject({ rule: 'vendorData', field: 'data' });
    expect(rejected.findings[0]!.message).toContain("must have required property 'cells'");
    // Unknown messages of the same vendor stay plain dataTransfer events.
    expect(interpretDataTransfer({ vendorId: 'Acme', messageId: 'Other', data: '{}' }, opts(reg)).type).toBe('dataTransfer');
  });

  it('decodes a binlog data_transfer row (HTML-encoded by SteVe) the same way, and pairs it with its wire twin', () => {
    const registry = VendorRegistry.load([BUILTIN_VENDOR_MESSAGES_DIR, dirWith({ 'acme-cells.json': CELL_TEMPS })]);
    const rule = new SourceRule({ binlogConfigured: true, vendorId: 'RivotMotors', kmPerAh: 2.7, registry });
    const at = new Date().toISOString();
    const row = rule.apply({
      id: 'dt:1', type: 'dataTransfer', chargeBoxId: 'ACME-2', timestamp: at, receivedAt: at, source: 'steve',
      data: { vendorId: 'Acme', messageId: 'CellTemps', data: '{&#34;cells&#34;:[25,26]}' },
    });
    expect(row.map((e) => [e.type, e.data])).toEqual([['vendorEvent', { vendorId: 'Acme', messageId: 'CellTemps', values: { first: 25, second: 26, all: [25, 26] } }]]);
    const wire = interpretDataTransfer({ vendorId: 'Acme', messageId: 'CellTemps', data: '{"cells":[25,26]}' }, opts(registry));
    if (wire.type !== 'vendorEvent') throw new Error(`got ${wire.type}`);
    expect(rule.apply({ id: 'log:9', type: 'vendorEvent', chargeBoxId: 'ACME-2', timestamp: at, receivedAt: at, source: 'station', data: wire.data })).toEqual([]);
    expect(rule.counters.twinsDropped).toBe(1);
  });

  it('reaches clients through a real gateway, and a YAML file can feed the station summary', async () => {
    const dir = dirWith({ 'acme-cells.json': CELL_TEMPS, 'acme-soc.yaml': ACME_SOC });
    const gw = await startGateway({ EVENTS_VENDOR_MESSAGES_DIR: dir });
    cleanups.push(() => gw.stop());
    const st = await connectStation(gw.wsUrl('ACME-1'));
    cleanups.push(() => st.close());
    await st.call('DataTransfer', { vendorId: 'Acme', messageId: 'CellTemps', data: JSON.stringify({ cells: [30, 31] }) });
    await st.call('DataTransfer', { vendorId: 'Acme', messageId: 'Soc', data: JSON.stringify({ pct: '64', amps: 50 }) });
    const end = Date.now() + 10_000;
    let events: readonly GatewayEvent[] = [];
    while (!events.some((e) => e.type === 'preChargeData') && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 25));
      events = gw.events.history.recent('ACME-1');
    }
    const cells = events.find((e): e is GatewayEvent<'vendorEvent'> => e.type === 'vendorEvent');
    expect(cells?.data).toEqual({ vendorId: 'Acme', messageId: 'CellTemps', values: { first: 30, second: 31, all: [30, 31] } });
    const { summary } = await gw.getJson<{ summary: { soc: number; model: string; maxRange: number } }>('/api/stations/ACME-1/state');
    expect(summary).toMatchObject({ soc: 64, model: 'Pro', maxRange: 162 });
    const listed = await gw.getJson<{ vendorMessages: { vendorId: string; messageId: string; file: string; emits: { type: string } }[] }>('/api/vendor-messages');
    expect(listed.vendorMessages.map((m) => `${m.vendorId}/${m.messageId}:${m.emits.type}`).sort()).toEqual([
      '$EVENTS_VENDOR_ID/BMSAlert:bmsAlert', '$EVENTS_VENDOR_ID/PreChargeData:preChargeData', '$EVENTS_VENDOR_ID/SessionSummary:sessionSummary',
      '$EVENTS_VENDOR_ID/VehicleInfo:preChargeData', 'Acme/CellTemps:vendorEvent', 'Acme/Soc:preChargeData',
    ]);
    expect(listed.vendorMessages.find((m) => m.messageId === 'Soc')?.file).toBe(path.join(dir, 'acme-soc.yaml'));
  });
});

describe('bad vendor message files', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown key', { ...CELL_TEMPS, extra: 1 }, /unknown key "extra"/],
    ['a schema that is not JSON Schema', { ...CELL_TEMPS, schema: { type: 'wat' } }, /schema is not a valid JSON Schema/],
    ['an event type outside the list', { ...CELL_TEMPS, emits: { type: 'status', fields: {} } }, /emits.type must be one of preChargeData, sessionSummary, bmsAlert, vendorEvent/],
    ['a field the event type lacks', { ...CELL_TEMPS, emits: { type: 'sessionSummary', fields: { soc: { from: 'x', as: 'number' } } } }, /sessionSummary has no such field/],
    ['a field of the wrong kind', { ...CELL_TEMPS, emits: { type: 'preChargeData', fields: { model: { from: 'x', as: 'number' } } } }, /this event field is a string, not number/],
    ['a rule without "as"', { ...CELL_TEMPS, emits: { type: 'vendorEvent', fields: { x: { from: 'x' } } } }, /\.as must be one of/],
    ['a reserved name', { ...CELL_TEMPS, emits: { type: 'vendorEvent', fields: { __proto__x: { from: 'x', as: 'json' }, vendorId: { from: 'x', as: 'string' } } } }, /vendorId: this name is reserved/],
  ];
  for (const [what, content, message] of bad) {
    it(`names the file and the problem: ${what}`, () => {
      const dir = dirWith({ 'acme.json': content });
      expect(() => VendorRegistry.load([dir])).toThrow(VendorMessageError);
      expect(() => VendorRegistry.load([dir])).toThrow(message);
      expect(() => VendorRegistry.load([dir])).toThrow(path.join(dir, 'acme.json'));
    });
  }

  it('refuses two files for one message, unreadable YAML, and a missing directory; the gateway does not start', async () => {
    expect(() => VendorRegistry.load([dirWith({ 'a.json': CELL_TEMPS, 'b.json': CELL_TEMPS })])).toThrow(/Acme \/ CellTemps is also defined in/);
    expect(() => VendorRegistry.load([dirWith({ 'a.yaml': 'vendorId: [' })])).toThrow(/cannot be read/);
    expect(() => VendorRegistry.load(['/nonexistent/vendor-messages'])).toThrow(/directory not found/);
    await expect(startGateway({ EVENTS_VENDOR_MESSAGES_DIR: dirWith({ 'acme.json': { ...CELL_TEMPS, emits: {} } }) })).rejects.toThrow(/vendor message files: .*acme\.json: emits.type/);
  });
});
