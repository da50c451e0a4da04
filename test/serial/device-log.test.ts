// The per-board device log: sequence numbers across restarts, rotation, bus events, the REST router.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/events/bus.js';
import type { EventInput } from '../../src/events/catalogue.js';
import { parseSerialConfig } from '../../src/serial/config.js';
import { DeviceLogStore } from '../../src/serial/device-log.js';
import { createSerialLinks } from '../../src/serial/index.js';

const logger = pino({ level: 'silent' });

describe('device log', () => {
  it('numbers lines per board across restarts, rotates by size, keeps the configured number of files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-devlog-'));
    const bus = new Bus();
    const events: EventInput[] = [];
    bus.on('eventInput', (e) => events.push(e));
    const store = new DeviceLogStore({ dir, maxFileBytes: 4096, files: 3, bus, logger });
    for (let i = 1; i <= 100; i++) store.append('FC/1', `line ${i} ${'.'.repeat(150)}`);
    store.append('FC-2', 'other board');
    await store.flush();
    expect(events).toHaveLength(101);
    expect(events[0]).toMatchObject({ id: 'serial-log:FC/1:1', type: 'deviceLog', chargeBoxId: 'FC/1', source: 'station', data: { line: `line 1 ${'.'.repeat(150)}` } });
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['FC%2F1.1.jsonl', 'FC%2F1.2.jsonl', 'FC%2F1.jsonl', 'FC-2.jsonl']);
    // Rotation dropped the oldest lines; what is left is contiguous and ends with the newest.
    const kept = await store.read('FC/1', { limit: 5000 });
    expect(kept.length).toBeLessThan(100);
    expect(kept.at(-1)?.n).toBe(100);
    expect(kept.map((l) => l.n)).toEqual(kept.map((_, i) => 100 - kept.length + 1 + i));

    // A new process continues the numbering: event ids never repeat.
    const again = new DeviceLogStore({ dir, maxFileBytes: 4096, files: 3, bus, logger });
    again.append('FC/1', 'after restart');
    await again.flush();
    expect(events.at(-1)).toMatchObject({ id: 'serial-log:FC/1:101' });
    expect((await again.read('FC/1', { after: 99, limit: 10 })).map((l) => l.line)).toEqual([`line 100 ${'.'.repeat(150)}`, 'after restart']);
  });

  it('in a cluster names the node in its events\' ids: a board moved to another node numbers its lines anew there', async () => {
    const bus = new Bus();
    const events: EventInput[] = [];
    bus.on('eventInput', (e) => events.push(e));
    for (const node of ['node-a', 'node-b']) {
      const store = new DeviceLogStore({ dir: mkdtempSync(path.join(os.tmpdir(), 'cb-devlog-')), maxFileBytes: 4096, files: 3, bus, logger, idScope: () => node });
      store.append('FC-MOVE', `hello from ${node}`);
      await store.flush();
    }
    expect(events.map((e) => e.id)).toEqual(['node-a/serial-log:FC-MOVE:1', 'node-b/serial-log:FC-MOVE:1']);
  });

  it('never keeps a line that mentions AuthorizationKey (a board echoing its OCPP traffic)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-devlog-'));
    const bus = new Bus();
    const events: EventInput[] = [];
    bus.on('eventInput', (e) => events.push(e));
    const store = new DeviceLogStore({ dir, maxFileBytes: 1 << 20, files: 2, bus, logger });
    const key = '0123456789abcdef0123456789abcdef';
    store.append('FC-K', `[MO] Recv: [2,"1","ChangeConfiguration",{"key":"AuthorizationKey","value":"${key}"}]`);
    store.append('FC-K', 'plain line');
    await store.flush();
    const lines = (await store.read('FC-K', { limit: 10 })).map((l) => l.line);
    expect(lines[1]).toBe('plain line');
    expect(lines[0]).toMatch(/redacted/);
    expect(JSON.stringify(events)).not.toContain(key);
    for (const f of readdirSync(dir)) expect(readFileSync(path.join(dir, f), 'utf8')).not.toContain(key);
  });

  it('serves lines over the router with after/limit and rejects bad parameters', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-devlog-'));
    const serial = createSerialLinks({ config: parseSerialConfig({}), attach: () => undefined, bus: new Bus(), logger, dataDir, registry: new Registry() });
    const app = express();
    app.use('/api/stations/:id/device-log', serial.deviceLogRouter());
    const server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/stations`;
    try {
      const empty = await (await fetch(`${base}/FC-9/device-log`)).json();
      expect(empty).toEqual({ chargeBoxId: 'FC-9', lines: [], next: 0 });
      expect((await fetch(`${base}/FC-9/device-log?limit=0`)).status).toBe(400);
      expect((await fetch(`${base}/FC-9/device-log?after=-1`)).status).toBe(400);
    } finally {
      server.close();
      await serial.stop();
    }
  });
});
