// The rider's session curve (ui/js/rider/series.js): figures from meterValues events, the same sample from two
// sources counted once, per-phase lines ignored, samples matched to their transaction.
import { beforeAll, describe, expect, it } from 'vitest';

interface Point { t: number; soc?: number; powerW?: number; currentA?: number; voltageV?: number }
interface Series { add(e: unknown): boolean; points(): Point[]; readonly size: number; latest(k: keyof Point): Point | undefined }
interface SeriesModule {
  createSeries(): Series;
  pointFromEvent(e: unknown): Point | undefined;
  belongsTo(e: unknown, tx: { transactionId?: number; connectorId?: number; startTime: string; stopTime?: string }): boolean;
  columns(points: Point[], startMs: number): [number[], (number | null)[], (number | null)[]];
}
let m: SeriesModule;
beforeAll(async () => {
  m = (await import(new URL('../../ui/js/rider/series.js', import.meta.url).href)) as SeriesModule;
});

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
const mv = (s: number, values: [string, string, string?][], extra: Record<string, unknown> = {}) => ({
  id: `e${s}-${JSON.stringify(extra)}`, type: 'meterValues', chargeBoxId: 'CP1', connectorId: 1, transactionId: 7, timestamp: at(s),
  data: { sampledValues: values.map(([measurand, value, unit]) => ({ measurand, value, ...(unit ? { unit } : {}) })) }, ...extra,
});

describe('session series', () => {
  it('reads SOC, power (W or kW, else V × A), current and voltage from one event', () => {
    expect(m.pointFromEvent(mv(0, [['SoC', '41.5'], ['Power.Active.Import', '1.5', 'kW'], ['Voltage', '80'], ['Current.Import', '20']]))).toEqual({ t: T0, soc: 41.5, powerW: 1500, currentA: 20, voltageV: 80 });
    expect(m.pointFromEvent(mv(0, [['Voltage', '80'], ['Current.Import', '20']]))?.powerW).toBe(1600);
    // Only an energy register: nothing the curves show.
    expect(m.pointFromEvent(mv(0, [['Energy.Active.Import.Register', '100']]))).toBeUndefined();
    const phased = { ...mv(0, []), data: { sampledValues: [{ measurand: 'Power.Active.Import', value: '500', phase: 'L1' }, { measurand: 'SoC', value: 'x' }] } };
    expect(m.pointFromEvent(phased)).toBeUndefined();
  });

  it('keeps points in time order, counts a repeated sample once and merges its figures', () => {
    const s = m.createSeries();
    expect(s.add(mv(30, [['SoC', '42']]))).toBe(true);
    expect(s.add(mv(0, [['SoC', '41']]))).toBe(true);
    expect(s.add(mv(30, [['Power.Active.Import', '900', 'W']], { source: 'steve' }))).toBe(true);
    expect(s.size).toBe(2);
    expect(s.points()).toEqual([{ t: T0, soc: 41 }, { t: T0 + 30_000, soc: 42, powerW: 900 }]);
    expect(s.latest('powerW')?.t).toBe(T0 + 30_000);
    expect(m.columns(s.points(), T0)).toEqual([[0, 0.5], [41, 42], [null, 0.9]]);
  });

  it('matches samples to the transaction by id, or by connector and time when they carry none', () => {
    const tx = { transactionId: 7, connectorId: 1, startTime: at(0), stopTime: at(600) };
    expect(m.belongsTo(mv(10, []), tx)).toBe(true);
    expect(m.belongsTo(mv(10, [], { transactionId: 8 }), tx)).toBe(false);
    expect(m.belongsTo(mv(10, [], { transactionId: undefined }), tx)).toBe(true);
    expect(m.belongsTo(mv(10, [], { transactionId: undefined, connectorId: 2 }), tx)).toBe(false);
    expect(m.belongsTo(mv(700, [], { transactionId: undefined }), tx)).toBe(false);
  });
});
