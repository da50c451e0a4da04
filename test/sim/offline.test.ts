// Offline behaviour like MicroOcpp: transaction messages queue while the link is down (bounded, persisted per
// station in DATA_DIR) and are replayed in order; reconnect with exponential backoff and jitter; one call in
// flight with a timeout; a power loss closes the open session after the next boot.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { callsOf, schemaViolations, startSim, tempDir, until, waitCall, type SimHarness } from './helpers.js';

const doubles: SteveDouble[] = [];
const sims: SimHarness[] = [];
afterEach(async () => {
  for (const h of sims.splice(0)) await h.sim.stop();
  for (const d of doubles.splice(0)) await d.close().catch(() => undefined);
});

async function double(port?: number): Promise<SteveDouble> {
  const d = await startSteveDouble({ knownStations: 'any', ...(port !== undefined ? { port } : {}) });
  doubles.push(d);
  return d;
}
function sim(opts: Parameters<typeof startSim>[0]): SimHarness {
  const h = startSim(opts);
  sims.push(h);
  return h;
}
const queueFile = (dataDir: string, id: string): string => path.join(dataDir, 'sim', `${id}.json`);
const txFramesIn = (d: SteveDouble, id: string): unknown[][] =>
  d.received.filter((f) => f.chargeBoxId === id && f.frame[0] === 2 && ['MeterValues', 'StopTransaction', 'StartTransaction', 'DataTransfer'].includes(String(f.frame[2]))).map((f) => f.frame);

test('link cut mid-session: meter values, StopTransaction and SessionSummary queue, persist, and replay in order', async () => {
  const d1 = await double();
  const h = sim({ target: d1.url, speed: 20, limits: { reconnectMinMs: 1000, reconnectMaxMs: 4000 } });
  await h.sim.start();
  h.sim.create({ id: 'OFF', vehicle: { model: 'Max', initialSoc: 30, targetSoc: 90 } });
  await until(() => h.sim.get('OFF').booted);
  await h.sim.act('OFF', { type: 'start' });
  await until(() => h.sim.get('OFF').connectors[0]?.transactionId !== undefined);
  const txId = h.sim.get('OFF').connectors[0]!.transactionId!;
  await waitCall(h.log, 'OFF', (c) => c.action === 'MeterValues');

  await d1.close(); // the central system goes away: the station's link drops
  await until(() => !h.sim.get('OFF').online);
  const cut = h.clock.now();
  await until(() => h.clock.now() - cut > 21_000, 5000, 'offline time');
  await h.sim.act('OFF', { type: 'stop' });
  await h.sim.act('OFF', { type: 'plugOut' });
  const queued = h.sim.get('OFF').queued;
  expect(queued).toBeGreaterThanOrEqual(5); // ≥ 3 meter values + stop + summary
  await until(() => existsSync(queueFile(h.dataDir, 'OFF')) && readFileSync(queueFile(h.dataDir, 'OFF'), 'utf8').includes('"summary"'), 5000, 'queue file');
  const persisted = JSON.parse(readFileSync(queueFile(h.dataDir, 'OFF'), 'utf8')) as { messages: { kind: string }[]; txIds: [number, number][] };
  expect(persisted.messages.map((m) => m.kind)).toEqual([...Array(queued - 2).fill('meter'), 'stop', 'summary']);
  expect(persisted.txIds).toEqual([[1, txId]]);

  const d2 = await double(d1.port);
  await until(() => h.sim.get('OFF').queued === 0 && h.sim.get('OFF').online, 15_000, 'replay');
  const replayed = txFramesIn(d2, 'OFF');
  expect(replayed.map((f) => f[2])).toEqual([...Array(queued - 2).fill('MeterValues'), 'StopTransaction', 'DataTransfer']);
  expect(replayed.slice(0, -1).every((f) => (f[3] as { transactionId: number }).transactionId === txId)).toBe(true);
  const stamps = replayed.slice(0, -1).map((f) => {
    const p = f[3] as { meterValue?: { timestamp: string }[]; timestamp?: string };
    return Date.parse(p.meterValue?.[0]?.timestamp ?? p.timestamp!);
  });
  for (let i = 1; i < stamps.length; i++) expect(stamps[i]!).toBeGreaterThan(stamps[i - 1]!);
  // Taken while offline, not at replay time.
  expect(stamps.at(-1)!).toBeLessThan(h.clock.now() - 1000);
  const energies = replayed.slice(0, -2).map((f) => Number((f[3] as { meterValue: { sampledValue: { measurand: string; value: string }[] }[] }).meterValue[0]!.sampledValue[0]!.value));
  for (let i = 1; i < energies.length; i++) expect(energies[i]!).toBeGreaterThan(energies[i - 1]!);
  // No BootNotification after a reconnect (MicroOcpp boots only after a reboot), but the current status is reported.
  expect(d2.received.some((f) => f.chargeBoxId === 'OFF' && f.frame[2] === 'BootNotification')).toBe(false);
  await until(() => d2.received.some((f) => f.chargeBoxId === 'OFF' && f.frame[2] === 'StatusNotification' && (f.frame[3] as { status: string }).status === 'Available'));
  await until(() => !existsSync(queueFile(h.dataDir, 'OFF')), 5000, 'queue file removed once drained');
  expect(schemaViolations(h.log)).toEqual([]);
});

test('reconnect backoff doubles from the minimum up to the maximum, with jitter in [50 %, 100 %]', async () => {
  const d = await double();
  const h = sim({ target: d.url, speed: 20, limits: { reconnectMinMs: 1000, reconnectMaxMs: 8000 } });
  await h.sim.start();
  h.sim.create({ id: 'BACKOFF' });
  await until(() => h.sim.get('BACKOFF').booted);
  await d.close();
  const connectsBefore = h.log.filter((r) => r.dir === 'connect').length;
  await until(() => h.log.filter((r) => r.dir === 'connect').length >= connectsBefore + 7, 15_000, 'seven attempts');
  const at = h.log.filter((r) => r.station === 'BACKOFF' && r.dir === 'connect').map((r) => r.at).slice(connectsBefore - 1);
  const gaps = at.slice(1).map((t, i) => t - at[i]!);
  const bases = [1000, 2000, 4000, 8000, 8000, 8000];
  bases.forEach((base, i) => {
    expect(gaps[i]!).toBeGreaterThanOrEqual(base * 0.5 - 150);
    expect(gaps[i]!).toBeLessThanOrEqual(base + 400); // + wheel slot and connect-refusal time at 20× speed
  });
  expect(new Set(gaps.slice(3, 6).map((g) => Math.round(g / 10))).size).toBeGreaterThan(1); // jitter, not a fixed delay
});

test('power loss with a queue: a new simulator on the same DATA_DIR boots, replays, and closes the session as PowerLoss', async () => {
  const d1 = await double();
  const dataDir = tempDir();
  const h1 = sim({ target: d1.url, speed: 20, dataDir });
  await h1.sim.start();
  h1.sim.create({ id: 'PWR' });
  await until(() => h1.sim.get('PWR').booted);
  await h1.sim.act('PWR', { type: 'start' });
  await until(() => h1.sim.get('PWR').connectors[0]?.transactionId !== undefined);
  const txId = h1.sim.get('PWR').connectors[0]!.transactionId!;
  await d1.close();
  await until(() => h1.sim.get('PWR').queued >= 2, 5000, 'meter values queued offline');
  const lastWh = h1.sim.get('PWR').connectors[0]!.energyWh;
  await h1.sim.stop();
  sims.splice(sims.indexOf(h1), 1);
  const saved = JSON.parse(readFileSync(queueFile(dataDir, 'PWR'), 'utf8')) as { open: { tx: number; lastMeterWh: number }[] };
  expect(saved.open).toEqual([expect.objectContaining({ tx: 1, lastMeterWh: lastWh })]);

  const d2 = await double(d1.port);
  const h2 = sim({ target: d2.url, speed: 20, dataDir });
  h2.sim.create({ id: 'PWR' });
  await h2.sim.start();
  await until(() => h2.sim.get('PWR').booted && h2.sim.get('PWR').queued === 0, 10_000, 'replay after power loss');
  const calls = callsOf(h2.log, 'PWR').map((c) => c.action);
  expect(calls[0]).toBe('BootNotification');
  const stop = callsOf(h2.log, 'PWR').find((c) => c.action === 'StopTransaction')!;
  expect(stop.payload).toMatchObject({ transactionId: txId, reason: 'PowerLoss', meterStop: lastWh });
  const mv = callsOf(h2.log, 'PWR').filter((c) => c.action === 'MeterValues');
  expect(mv.length).toBeGreaterThanOrEqual(2);
  expect(calls.indexOf('MeterValues')).toBeLessThan(calls.indexOf('StopTransaction'));
  expect(h2.sim.get('PWR').connectors[0]!.status).toBe('Available');
});

test('a session started offline (AllowOfflineTxForUnknownId): StartTransaction first, later messages get its transactionId', async () => {
  const d1 = await double();
  const h = sim({ target: d1.url, speed: 20, limits: { reconnectMaxMs: 2000 } });
  await h.sim.start();
  h.sim.create({ id: 'OFFSTART', config: { AllowOfflineTxForUnknownId: 'true' } });
  await until(() => h.sim.get('OFFSTART').booted);
  await d1.close();
  await until(() => !h.sim.get('OFFSTART').online);
  expect((await h.sim.act('OFFSTART', { type: 'start', idTag: 'OFFLINE' })).ok).toBe(true);
  await until(() => h.sim.get('OFFSTART').queued >= 3, 5000);
  const d2 = await double(d1.port);
  await until(() => h.sim.get('OFFSTART').queued === 0 && h.sim.get('OFFSTART').online, 10_000);
  const frames = txFramesIn(d2, 'OFFSTART');
  expect(frames[0]![2]).toBe('StartTransaction');
  const txId = h.sim.get('OFFSTART').connectors[0]!.transactionId!;
  expect(typeof txId).toBe('number');
  expect(frames.slice(1).every((f) => f[2] === 'MeterValues' && (f[3] as { transactionId: number }).transactionId === txId)).toBe(true);
});

test('one call in flight: the next waits until the first times out (30 s), and the station goes on', async () => {
  const d = await startSteveDouble({ knownStations: 'any', handlers: { Heartbeat: () => undefined } });
  doubles.push(d);
  const h = sim({ target: d.url, speed: 20 });
  await h.sim.start();
  h.sim.create({ id: 'SLOW' });
  await until(() => h.sim.get('SLOW').booted && h.sim.get('SLOW').queued === 0);
  await d.call('SLOW', 'TriggerMessage', { requestedMessage: 'Heartbeat' });
  await d.call('SLOW', 'TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 });
  const hb = h.log.find((r) => r.station === 'SLOW' && r.dir === 'out' && r.text.includes('"Heartbeat"'))!;
  await until(() => h.sim.get('SLOW').counters.timeouts === 1, 5000, 'timeout');
  const status = await waitCall(h.log, 'SLOW', (c) => c.action === 'StatusNotification', { from: 3 });
  const sent = h.log.filter((r) => r.station === 'SLOW' && r.dir === 'out' && r.text.includes(status.id))[0]!;
  expect(sent.at - hb.at).toBeGreaterThanOrEqual(30_000 - 150);
  expect(sent.at - hb.at).toBeLessThan(32_000);
});

/** A station that boots, loses its central system, and charges offline for `offlineMs` of its clock (speed 40). */
async function chargeOffline(id: string, limits: Parameters<typeof startSim>[0]['limits'], offlineMs: number): Promise<SimHarness> {
  const d1 = await double();
  const h = sim({ target: d1.url, speed: 40, limits: { ...limits, reconnectMinMs: 60_000, reconnectMaxMs: 60_000 } });
  await h.sim.start();
  h.sim.create({ id, config: { AllowOfflineTxForUnknownId: 'true' } });
  await until(() => h.sim.get(id).booted);
  await d1.close();
  await until(() => !h.sim.get(id).online);
  await h.sim.act(id, { type: 'start' });
  const t0 = h.clock.now();
  await until(() => h.clock.now() - t0 > offlineMs, offlineMs / 10);
  await h.sim.act(id, { type: 'stop' });
  return h;
}

test('the offline queue is bounded: periodic meter values are dropped first, StartTransaction/StopTransaction kept', async () => {
  const h = await chargeOffline('BOUND', { queueLimit: 6 }, 50_000);
  const info = h.sim.get('BOUND');
  expect(info.queued).toBe(6);
  expect(info.counters.dropped).toBeGreaterThan(0);
  await until(() => existsSync(queueFile(h.dataDir, 'BOUND')));
  await new Promise((r) => setTimeout(r, 1200));
  const saved = JSON.parse(readFileSync(queueFile(h.dataDir, 'BOUND'), 'utf8')) as { messages: { kind: string }[] };
  expect(saved.messages.map((m) => m.kind)).toEqual(['start', 'meter', 'meter', 'meter', 'stop', 'summary']);
});

test('the offline queue is bounded in bytes too: meter values go first, the drops are counted apart and in the totals', async () => {
  const budget = 2048;
  const h = await chargeOffline('BYTES', { queueBytes: budget }, 120_000);
  const info = h.sim.get('BYTES');
  expect(info.counters.droppedForBytes).toBeGreaterThan(0);
  expect(info.counters.dropped).toBeGreaterThanOrEqual(info.counters.droppedForBytes ?? 0);
  expect(h.sim.totals().droppedForBytes).toBe(info.counters.droppedForBytes);
  await until(() => existsSync(queueFile(h.dataDir, 'BYTES')) && readFileSync(queueFile(h.dataDir, 'BYTES'), 'utf8').includes('"summary"'));
  const saved = JSON.parse(readFileSync(queueFile(h.dataDir, 'BYTES'), 'utf8')) as { messages: { kind: string; payload: unknown }[] };
  const kinds = saved.messages.map((m) => m.kind);
  expect(kinds[0]).toBe('start');
  expect(kinds.slice(-2)).toEqual(['stop', 'summary']);
  expect(kinds.filter((k) => k === 'meter').length).toBeGreaterThan(0);
  expect(saved.messages.reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m.payload)), 0)).toBeLessThanOrEqual(budget);
});
