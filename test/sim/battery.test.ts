// The battery / EV model on its own: CC then CV taper, SOC reaching the target, energy as the integral of V × I,
// temperature following power, and the firmware's model facts.
import { describe, expect, test } from 'vitest';
import {
  CHARGE_VOLTAGE_V, MODELS, NOMINAL_PACK_V, acceptedCurrent, modelFromBmsCurrent, newBattery, packOcv, rangeKm, stepBattery,
} from '../../src/sim/battery.js';
import { Connector } from '../../src/sim/connector.js';

const charger = { maxCurrentA: 100, maxPowerW: 8500 };

describe('battery model', () => {
  test('model facts: 30/60/90 Ah, BMS max 30/60/100 A, 23S LFP nominal 73.6 V, model from BMS current', () => {
    expect(MODELS.Classic).toMatchObject({ capacityAh: 30, bmsMaxA: 30 });
    expect(MODELS.Pro).toMatchObject({ capacityAh: 60, bmsMaxA: 60 });
    expect(MODELS.Max).toMatchObject({ capacityAh: 90, bmsMaxA: 100 });
    expect(NOMINAL_PACK_V).toBe(73.6);
    expect(packOcv(30)).toBeGreaterThan(73);
    expect(packOcv(30)).toBeLessThan(74.5);
    expect(modelFromBmsCurrent(30)).toBe('Classic');
    expect(modelFromBmsCurrent(60)).toBe('Pro');
    expect(modelFromBmsCurrent(100)).toBe('Max');
    expect(rangeKm(newBattery('Max', 100, 100))).toBeCloseTo(243, 5);
  });

  test('voltage rises with SOC', () => {
    let last = 0;
    for (let soc = 0; soc <= 100; soc += 5) {
      expect(packOcv(soc)).toBeGreaterThan(last);
      last = packOcv(soc);
    }
  });

  for (const model of ['Classic', 'Pro', 'Max'] as const) {
    test(`${model}: constant current at the BMS limit, then a CV taper until charge complete`, () => {
      const b = newBattery(model, 10, 100);
      const currents: { soc: number; i: number; v: number }[] = [];
      for (let t = 0; t < 6 * 3600 && !b.full; t++) {
        stepBattery(b, 1, charger, true);
        currents.push({ soc: b.soc, i: b.currentA, v: b.voltageV });
      }
      expect(b.full).toBe(true);
      const bms = MODELS[model].bmsMaxA;
      // CC: flat at the limit (power permitting) for most of the charge.
      const cc = currents.filter((c) => c.soc < 90);
      const limit = Math.min(bms, charger.maxPowerW / 80);
      expect(cc.every((c) => c.i >= limit - 0.5 && c.i <= bms + 1e-9)).toBe(true);
      // CV: once the terminal voltage reaches the setpoint the current only falls.
      const cvStart = currents.findIndex((c) => c.v >= CHARGE_VOLTAGE_V - 1e-6 && c.i < limit - 0.01);
      expect(cvStart).toBeGreaterThan(0);
      const cv = currents.slice(cvStart);
      for (let k = 1; k < cv.length; k++) expect(cv[k]!.i).toBeLessThanOrEqual(cv[k - 1]!.i + 1e-9);
      expect(cv.at(-1)!.i).toBeLessThan(MODELS[model].capacityAh / 20 + 0.5);
      expect(cv.every((c) => c.v <= CHARGE_VOLTAGE_V + 1e-6)).toBe(true);
      expect(currents[cvStart]!.soc).toBeGreaterThan(90);
    });
  }

  test('charger power limit caps the current below the BMS limit', () => {
    const b = newBattery('Max', 50, 100);
    expect(acceptedCurrent(b, { maxCurrentA: 100, maxPowerW: 3000 })).toBeCloseTo(3000 / packOcv(50), 6);
    expect(acceptedCurrent(b, { maxCurrentA: 20, maxPowerW: 8500 })).toBe(20);
  });

  test('SOC reaches the target and stops there; Ah delivered matches the SOC gained', () => {
    const b = newBattery('Classic', 20, 80);
    let seconds = 0;
    let ah = 0;
    while (!b.full && seconds < 4 * 3600) {
      stepBattery(b, 1, charger, true);
      ah += b.currentA / 3600;
      seconds++;
    }
    expect(b.full).toBe(true);
    expect(b.soc).toBeGreaterThanOrEqual(80);
    expect(b.soc).toBeLessThan(80.1);
    expect(ah).toBeCloseTo((0.6 * 30 * (b.soc - 20)) / 60, 3);
    // 18 Ah at 30 A: 36 minutes.
    expect(seconds).toBeGreaterThan(35 * 60);
    expect(seconds).toBeLessThan(37 * 60);
    const socAtFull = b.soc;
    for (let t = 0; t < 600; t++) stepBattery(b, 1, charger, true);
    expect(b.soc).toBe(socAtFull);
    expect(b.currentA).toBe(0);
  });

  test('the energy register equals the integral of V × I (connector stepping in ≤ 1 s steps)', () => {
    const c = new Connector(1, 0);
    c.plug({ model: 'Pro', initialSoc: 30, targetSoc: 100 }, { model: 'Pro', initialSoc: 30, targetSoc: 100 }, 0);
    c.tx = { local: 1, id: 1, idTag: 'T', startedAt: 0, meterStart: 0 };
    let integral = 0;
    let now = 0;
    // Irregular wake-ups (as the timer wheel gives them), integrated independently at 0.25 s.
    const b = newBattery('Pro', 30, 100);
    for (let k = 0; k < 2000; k++) {
      const dt = 1000 + (k % 7) * 700;
      now += dt;
      c.advance(now, charger);
      for (let q = 0; q < dt / 250; q++) integral += stepBattery(b, 0.25, charger, true);
    }
    expect(c.energyWh).toBeGreaterThan(1000);
    expect(Math.abs(c.energyWh - integral) / integral).toBeLessThan(0.002);
    // And against V × I × t recomputed by hand from the register's own voltage and current in steady CC.
    const d = new Connector(1, 0);
    d.plug({ model: 'Classic', initialSoc: 50, targetSoc: 100 }, { model: 'Classic', initialSoc: 50, targetSoc: 100 }, 0);
    d.tx = { local: 1, id: 1, idTag: 'T', startedAt: 0, meterStart: 0 };
    d.advance(1000, charger);
    const v = d.vehicle!.battery.voltageV;
    const i = d.vehicle!.battery.currentA;
    expect(d.energyWh).toBeCloseTo((v * i) / 3600, 6);
  });

  test('temperature drifts up with power and back towards ambient without it', () => {
    const b = newBattery('Max', 20, 100);
    for (let t = 0; t < 1800; t++) stepBattery(b, 1, charger, true);
    const hot = b.temperatureC;
    expect(hot).toBeGreaterThan(40);
    for (let t = 0; t < 3600; t++) stepBattery(b, 1, charger, false);
    expect(b.temperatureC).toBeLessThan(hot - 10);
    expect(b.currentA).toBe(0);
  });
});
