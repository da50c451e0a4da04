// The rider screen's time-to-target estimator (ui/js/rider/taper.js) against the simulator's battery model: from
// one sample (SOC, current, voltage) it must predict how long the simulated pack takes to reach the target, taper
// included, and say when the charge ends below the target.
import { beforeAll, describe, expect, it } from 'vitest';
import { MODELS, newBattery, stepBattery, type VehicleModel } from '../../src/sim/battery.js';

interface TaperInput { soc: number; targetSoc: number; capacityAh: number; currentA: number; voltageV?: number; resistanceOhm?: number }
type Estimate =
  | { ok: true; seconds: number; endSoc: number; endsBy: 'target' | 'complete'; phase: 'cc' | 'cv'; resistanceOhm: number }
  | { ok: false; reason: string };
interface Taper {
  estimateTimeToTarget(i: TaperInput): Estimate;
  capacityOf(model: string | null, maxRange: number | null): number | undefined;
  packOcv(soc: number): number;
}

let taper: Taper;
beforeAll(async () => {
  taper = (await import(new URL('../../ui/js/rider/taper.js', import.meta.url).href)) as Taper;
});

const LIMITS = { maxCurrentA: 100, maxPowerW: 8500 };

/** Runs the simulated pack from `from` % (1 s steps) to `target`; the sample at `sampleAt` % and the seconds after it. */
function simulate(model: VehicleModel, from: number, target: number, sampleAt: number) {
  const b = newBattery(model, from, target);
  let t = 0;
  let sample: { soc: number; currentA: number; voltageV: number; t: number } | undefined;
  while (!b.full && t < 48 * 3600) {
    stepBattery(b, 1, LIMITS, true);
    t += 1;
    if (!sample && b.soc >= sampleAt && b.currentA > 0) sample = { soc: b.soc, currentA: b.currentA, voltageV: b.voltageV, t };
  }
  if (!sample) throw new Error('never sampled');
  return { sample, remainingS: t - sample.t, endSoc: b.soc };
}

describe('time to target SOC from the taper', () => {
  for (const model of ['Classic', 'Pro', 'Max'] as const) {
    for (const [sampleAt, target] of [[30, 80], [30, 100], [70, 100], [92, 100], [96, 100]] as const) {
      it(`${model}: from ${sampleAt} % to ${target} % within 3 % of the simulated pack`, () => {
        const sim = simulate(model, sampleAt - 5, target, sampleAt);
        const est = taper.estimateTimeToTarget({ soc: sim.sample.soc, targetSoc: target, capacityAh: MODELS[model].capacityAh, currentA: sim.sample.currentA, voltageV: sim.sample.voltageV });
        expect(est.ok).toBe(true);
        if (!est.ok) return;
        expect(Math.abs(est.seconds - sim.remainingS)).toBeLessThanOrEqual(Math.max(20, sim.remainingS * 0.03));
        // At 100 % the taper reaches C/20 first: the estimate says where the charge ends, as the pack does.
        if (target === 100) {
          expect(est.endsBy).toBe('complete');
          expect(Math.abs(est.endSoc - sim.endSoc)).toBeLessThan(0.3);
        } else expect(est.endsBy).toBe('target');
      });
    }
  }

  it('is far longer than a straight line near full (the taper), and says it is in the CV phase', () => {
    const sim = simulate('Pro', 90, 100, 98);
    const est = taper.estimateTimeToTarget({ soc: sim.sample.soc, targetSoc: 99, capacityAh: 60, currentA: sim.sample.currentA, voltageV: sim.sample.voltageV });
    if (!est.ok) throw new Error(est.reason);
    const straightLine = (((99 - sim.sample.soc) / 100) * 60 * 3600) / sim.sample.currentA;
    expect(est.phase).toBe('cv');
    expect(est.seconds).toBeGreaterThan(straightLine * 1.5);
  });

  it('in the CC phase with no voltage it uses the given resistance and still tapers', () => {
    const est = taper.estimateTimeToTarget({ soc: 50, targetSoc: 99, capacityAh: 30, currentA: 30, resistanceOhm: 0.1 });
    if (!est.ok) throw new Error(est.reason);
    expect(est.phase).toBe('cc');
    const straightLine = ((49 / 100) * 30 * 3600) / 30;
    expect(est.seconds).toBeGreaterThan(straightLine);
  });

  it('an implausible voltage (below the open-circuit voltage) falls back to the given resistance', () => {
    const a = taper.estimateTimeToTarget({ soc: 50, targetSoc: 90, capacityAh: 60, currentA: 60, voltageV: 10, resistanceOhm: 0.05 });
    const b = taper.estimateTimeToTarget({ soc: 50, targetSoc: 90, capacityAh: 60, currentA: 60, resistanceOhm: 0.05 });
    expect(a).toEqual(b);
  });

  it('says why when there is nothing to estimate', () => {
    expect(taper.estimateTimeToTarget({ soc: 85, targetSoc: 80, capacityAh: 30, currentA: 10 })).toEqual({ ok: false, reason: 'reached' });
    expect(taper.estimateTimeToTarget({ soc: 50, targetSoc: 80, capacityAh: 30, currentA: 0 })).toEqual({ ok: false, reason: 'not-charging' });
    expect(taper.estimateTimeToTarget({ soc: 50, targetSoc: 80, capacityAh: 0, currentA: 10 })).toEqual({ ok: false, reason: 'unknown-capacity' });
    expect(taper.estimateTimeToTarget({ soc: Number.NaN, targetSoc: 80, capacityAh: 30, currentA: 10 })).toEqual({ ok: false, reason: 'bad-input' });
  });

  it('finds the capacity from the model, else from the max range', () => {
    expect(taper.capacityOf('Pro', null)).toBe(60);
    expect(taper.capacityOf('Unknown', 243)).toBeCloseTo(90);
    expect(taper.capacityOf(null, null)).toBeUndefined();
  });

  it('uses the same open-circuit curve as the simulator', async () => {
    const { packOcv } = await import('../../src/sim/battery.js');
    for (const soc of [0, 3, 17, 50, 85, 93, 97, 99, 100]) expect(taper.packOcv(soc)).toBeCloseTo(packOcv(soc), 6);
  });
});
