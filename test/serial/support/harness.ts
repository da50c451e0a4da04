// One gateway (real relay, real SteVe stand-in upstream) with serial links on socat pty pairs and C++ device
// stand-ins on the far ends. Fresh temp dirs, port 0 everywhere.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LinkStateChange } from '../../../src/events/observations.js';
import type { EventInput } from '../../../src/events/catalogue.js';
import type { SerialLinks } from '../../../src/serial/index.js';
import { startGateway } from '../../support/gateway.js';
import { startSteveDouble, type SteveDouble } from '../../support/steve-double.js';
import { startDevice, type Device, type DeviceOptions } from './device.js';
import { ptyPair, type PtyPair } from './pty.js';

export interface Board {
  readonly pty: PtyPair;
  readonly device: Device;
}

export interface Harness {
  readonly dir: string;
  readonly steve: SteveDouble;
  readonly gateway: Awaited<ReturnType<typeof startGateway>>;
  readonly serial: SerialLinks;
  readonly links: LinkStateChange[];
  readonly deviceLogEvents: EventInput<'deviceLog'>[];
  readonly boards: Board[];
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export interface BoardSpec {
  readonly name: string;
  readonly chargeBoxId: string;
  /** `#id` in SERIAL_PORTS: overrides the board's own id. */
  readonly configuredId?: string;
  readonly device?: DeviceOptions;
}

export async function startHarness(specs: readonly BoardSpec[], env: Record<string, string> = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-serial-'));
  const steve = await startSteveDouble();
  const pairs = specs.map((s) => ({ spec: s, pty: ptyPair(dir, s.name) }));
  for (const p of pairs) await p.pty.start();
  // The gateway owns its serial side, configured from the environment like in production.
  const gateway = await startGateway({
    STEVE_WS_URL: steve.url,
    DATA_DIR: path.join(dir, 'data'),
    ...(process.env.SERIAL_TEST_LOG ? { LOG_LEVEL: process.env.SERIAL_TEST_LOG } : {}),
    SERIAL_PORTS: pairs.map((p) => p.pty.gateway + (p.spec.configuredId ? `#${p.spec.configuredId}` : '')).join(','),
    SERIAL_KEEPALIVE_MS: '300',
    SERIAL_REOPEN_MIN_MS: '50',
    SERIAL_REOPEN_MAX_MS: '200',
    ...env,
  });
  const serial = gateway.serial;
  const links: LinkStateChange[] = [];
  const deviceLogEvents: EventInput<'deviceLog'>[] = [];
  gateway.bus.on('link', (c) => links.push(c));
  gateway.bus.on('eventInput', (e) => {
    if (e.type === 'deviceLog') deviceLogEvents.push(e);
  });
  const boards = pairs.map((p) => ({ pty: p.pty, device: startDevice(p.pty.device, p.spec.chargeBoxId, p.spec.device) }));
  return {
    dir,
    steve,
    gateway,
    serial,
    links,
    deviceLogEvents,
    boards,
    async metric(name, labels = {}) {
      const m = gateway.registry.getSingleMetric(name);
      if (!m) return 0;
      const { values } = await m.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async close() {
      await Promise.all(boards.map((b) => b.device.stop()));
      await gateway.stop();
      await steve.close();
      await Promise.all(boards.map((b) => b.pty.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends a CALL from the board and waits for the answer the board receives. */
export async function boardCall(device: Device, id: string, action: string, payload: unknown, timeoutMs = 10_000): Promise<unknown[]> {
  const from = device.events.length;
  device.command(`send ${JSON.stringify([2, id, action, payload])}`);
  const e = await device.waitFor((ev) => ev.ev === 'recv' && typeof ev.text === 'string' && (JSON.parse(ev.text) as unknown[])[1] === id, timeoutMs, from);
  return JSON.parse(e.text as string) as unknown[];
}

/** Answers the GetConfiguration SteVe sends after every connect, as MicroOcpp would. */
export async function answerGetConfiguration(device: Device): Promise<void> {
  const call = await device.waitForCall('GetConfiguration');
  device.command(`send ${JSON.stringify([3, call.id, { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }], unknownKey: [] }])}`);
}
