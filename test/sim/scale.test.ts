// 1,000 stations over real WebSockets to the SteVe double: all connect, boot and charge, within a minute.
import { afterAll, expect, test } from 'vitest';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { startSim, until, type SimHarness } from './helpers.js';

let double: SteveDouble | undefined;
let h: SimHarness | undefined;
afterAll(async () => {
  await h?.sim.stop();
  await double?.close();
});

test('1,000 stations connect and charge', async () => {
  const t0 = Date.now();
  double = await startSteveDouble({ knownStations: 'any', getConfigurationOnConnect: false });
  const stations = Array.from({ length: 1000 }, (_, i) => ({
    id: `SCALE-${String(i + 1).padStart(4, '0')}`,
    vehicle: { model: (['Classic', 'Pro', 'Max'] as const)[i % 3]!, initialSoc: 30, targetSoc: 90 },
  }));
  h = startSim({ target: double.url, speed: 10, stations, connectSpreadMs: 10_000 });
  await h.sim.start();
  await until(() => h!.sim.totals().booted === 1000, 40_000, 'all booted');
  for (const s of stations) await h.sim.act(s.id, { type: 'start' });
  await until(() => h!.sim.totals().charging === 1000, 20_000, 'all charging');
  await until(() => new Set(double!.received.filter((f) => f.frame[2] === 'MeterValues').map((f) => f.chargeBoxId)).size === 1000, 20_000, 'meter values from every station');
  const t = h.sim.totals();
  expect(t).toMatchObject({ stations: 1000, online: 1000, booted: 1000, charging: 1000, txStarted: 1000, timeouts: 0, callErrors: 0 });
  expect(double.sockets.size).toBe(1000);
  expect(new Set(double.received.filter((f) => f.frame[2] === 'StartTransaction').map((f) => f.chargeBoxId)).size).toBe(1000);
  // Initial connects were spread over SIM_CONNECT_SPREAD_MS (10 s of simulated time), not fired at once.
  // (Upper bound loose: at 10× speed a busy event loop makes late slots run late in simulated time.)
  const firstAt = new Map<string, number>();
  for (const r of h.log) if (r.dir === 'connect' && !firstAt.has(r.station)) firstAt.set(r.station, r.at);
  const first = [...firstAt.values()];
  expect(first).toHaveLength(1000);
  expect(Math.max(...first) - Math.min(...first)).toBeGreaterThan(9000);
  expect(Math.max(...first) - Math.min(...first)).toBeLessThan(30_000);
  expect(Date.now() - t0).toBeLessThan(60_000);
}, 60_000);
