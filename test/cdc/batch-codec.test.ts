// The reader thread's batch codec: what arrives on the main thread equals what the reader handed on, field for field.
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/cdc/batch-codec.js';
import { sampledValue } from '../../src/cdc/meter-row.js';
import type { EventInput } from '../../src/events/catalogue.js';

const base = { chargeBoxId: 'CB1', timestamp: '2026-01-01T00:00:00.000Z', receivedAt: '2026-01-01T00:00:00.100Z', source: 'steve' } as const;

describe('batch codec', () => {
  it('meterValues with and without optional fields, and other events, round-trip exactly and in order', () => {
    const events: EventInput[] = [
      { ...base, id: 'steve:0-1-5:0', type: 'meterValues', connectorId: 2, transactionId: 7, data: { sampledValues: [
        sampledValue({ value: '12.5', measurand: 'SoC', unit: 'Percent', reading_context: 'Sample.Periodic', format: 'Raw', location: 'EV', phase: 'L1' }),
        sampledValue({ value: '3', measurand: null, unit: null }),
      ] } },
      { ...base, id: 'steve:0-1-5:2', type: 'status', connectorId: 2, data: { status: 'Charging', errorCode: 'NoError', synthetic: false } },
      { ...base, id: 'steve:0-1-5:3', type: 'meterValues', data: { sampledValues: [] } },
      { ...base, id: 'wire:1', type: 'meterValues', source: 'wire', connectorId: 1, data: { sampledValues: [{ value: '1', measurand: 'Voltage' }] } },
    ] as EventInput[];
    const back = decodeBatch(encodeBatch(events));
    expect(back).toEqual(JSON.parse(JSON.stringify(events)));
    const first = back[0] as EventInput<'meterValues'>;
    expect(Object.keys(first.data.sampledValues[1]!)).toEqual(['value', 'measurand']);
    expect(first.data.sampledValues[1]).toEqual({ value: '3', measurand: 'Energy.Active.Import.Register' });
    expect('connectorId' in back[2]!).toBe(false);
  });
});
