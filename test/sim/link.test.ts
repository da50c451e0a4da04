// In-process mode: stations are StationLinks (kind 'sim') attached to the real gateway relay, which relays them to
// the SteVe double exactly like WebSocket stations. A relay-side close looks like a dropped connection.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import type { StationLink } from '../../src/links/link.js';
import type { LinkStateChange } from '../../src/events/observations.js';
import { linkTransport } from '../../src/sim/link-transport.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { callsOf, schemaViolations, startSim, tempDir, until, type SimHarness } from './helpers.js';

let double: SteveDouble;
let gateway: Gateway;
let h: SimHarness;
const attached: StationLink[] = [];
const linkEvents: LinkStateChange[] = [];

beforeAll(async () => {
  double = await startSteveDouble({ knownStations: 'any' });
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DATA_DIR: tempDir(), STEVE_WS_URL: double.url, LOG_LEVEL: 'silent' });
  gateway = await createGateway(config, { logger: pino({ level: 'silent' }) });
  await gateway.start();
  gateway.bus.on('link', (e) => linkEvents.push(e));
  h = startSim({
    target: 'unused',
    speed: 10,
    limits: { reconnectMinMs: 500, reconnectMaxMs: 2000 },
    transport: linkTransport((link) => {
      attached.push(link);
      gateway.relay.attach(link);
    }),
  });
  await h.sim.start();
});

afterAll(async () => {
  await h.sim.stop();
  await gateway.stop();
  await double.close();
});

test('a simulated station reaches SteVe through the relay as link kind sim, and answers calls relayed from SteVe', async () => {
  h.sim.create({ id: 'LINK-1' });
  await until(() => h.sim.get('LINK-1').booted, 5000, 'boot through the relay');
  const boot = await double.waitFor((f) => f.chargeBoxId === 'LINK-1' && f.frame[2] === 'BootNotification');
  expect(boot.raw).toBe(h.log.find((r) => r.station === 'LINK-1' && r.dir === 'out')!.text); // byte for byte
  expect(gateway.relay.stations().find((s) => s.chargeBoxId === 'LINK-1')?.linkKind).toBe('sim');
  expect(linkEvents.some((e) => e.kind === 'connected' && e.chargeBoxId === 'LINK-1' && 'linkKind' in e && e.linkKind === 'sim')).toBe(true);
  expect(h.sim.get('LINK-1').transport).toBe('link');

  const res = await double.call('LINK-1', 'RemoteStartTransaction', { idTag: 'VIA-RELAY', connectorId: 1 });
  expect(res[2]).toEqual({ status: 'Accepted' });
  await h.sim.act('LINK-1', { type: 'plugIn' });
  await double.waitFor((f) => f.chargeBoxId === 'LINK-1' && f.frame[2] === 'StartTransaction');
  await until(() => h.sim.get('LINK-1').connectors[0]?.status === 'Charging');
  const own = await gateway.relay.call('LINK-1', 'GetConfiguration', { key: ['MeterValueSampleInterval'] });
  expect(own).toMatchObject({ kind: 'result', payload: { configurationKey: [{ key: 'MeterValueSampleInterval', value: '5', readonly: false }] } });
});

test('closing the link from the relay side is a dropped connection: the station attaches a new link and carries on', async () => {
  h.sim.create({ id: 'LINK-2' });
  await until(() => h.sim.get('LINK-2').booted);
  await h.sim.act('LINK-2', { type: 'start' });
  await until(() => h.sim.get('LINK-2').connectors[0]?.transactionId !== undefined);
  const before = attached.filter((l) => l.chargeBoxId === 'LINK-2').length;
  const link = attached.filter((l) => l.chargeBoxId === 'LINK-2').at(-1)!;
  link.close(1001, 'relay going away');
  await until(() => !h.sim.get('LINK-2').online || attached.filter((l) => l.chargeBoxId === 'LINK-2').length > before, 2000);
  await until(() => attached.filter((l) => l.chargeBoxId === 'LINK-2').length === before + 1 && h.sim.get('LINK-2').online, 5000, 'reattach');
  expect(h.sim.get('LINK-2').counters.boots).toBe(1); // no reboot: a reconnect does not send BootNotification
  const mvBefore = double.received.filter((f) => f.chargeBoxId === 'LINK-2' && f.frame[2] === 'MeterValues').length;
  await until(() => double.received.filter((f) => f.chargeBoxId === 'LINK-2' && f.frame[2] === 'MeterValues').length > mvBefore, 5000, 'meter values after reconnect');
  await h.sim.act('LINK-2', { type: 'stop' });
  await double.waitFor((f) => f.chargeBoxId === 'LINK-2' && f.frame[2] === 'StopTransaction');
});

test('dropLink from the station side closes the relay session (1006) and reconnects', async () => {
  h.sim.create({ id: 'LINK-3' });
  await until(() => h.sim.get('LINK-3').booted);
  const connects = h.sim.get('LINK-3').counters.connects;
  expect((await h.sim.act('LINK-3', { type: 'dropLink' })).ok).toBe(true);
  await until(() => linkEvents.some((e) => e.kind === 'disconnected' && e.chargeBoxId === 'LINK-3'), 3000);
  const gone = linkEvents.find((e) => e.kind === 'disconnected' && e.chargeBoxId === 'LINK-3') as { code: number };
  expect(gone.code).toBe(1006);
  await until(() => h.sim.get('LINK-3').counters.connects === connects + 1 && h.sim.get('LINK-3').online, 5000);
  expect(schemaViolations(h.log)).toEqual([]);
  expect(callsOf(h.log, 'LINK-3')[0]!.action).toBe('BootNotification');
});
