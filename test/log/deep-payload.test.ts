// A stored frame whose payload nests thousands of levels deep must never break the read APIs: through a real
// gateway, every read endpoint answers 200 JSON after such a CALL, and again after a restart on the same DATA_DIR.
// Every error of every route is the JSON error shape, never Express's HTML page.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { useJsonErrors } from '../../src/api/errors.js';
import type { LogEntry } from '../../src/events/observations.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import { until } from './helpers.js';

const DEPTH = 10_000;
const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;

async function expectJson(gw: TestGateway, path: string): Promise<unknown> {
  const res = await fetch(`${gw.httpUrl}${path}`, { headers: gw.authHeader() });
  const body = await res.text();
  expect(res.status, `${path}: ${body.slice(0, 300)}`).toBe(200);
  return body;
}

async function readAll(gw: TestGateway): Promise<void> {
  const page = JSON.parse((await expectJson(gw, '/api/messages?chargeBoxId=CP-DEEP')) as string) as { entries: LogEntry[] };
  // The relay refuses a frame this deep (never forwarded); its log entry keeps the text with the finding.
  const call = page.entries.find((e) => e.messageId === 'deep-1' && e.direction === 'in');
  expect(call?.findings.map((f) => f.rule)).toContain('frame.too-deep');
  expect(call?.payload).toBeUndefined();
  expect(typeof call?.raw).toBe('string');
  const jsonl = (await expectJson(gw, '/api/messages?chargeBoxId=CP-DEEP&format=jsonl')) as string;
  for (const line of jsonl.trim().split('\n')) JSON.parse(line);
  expect(jsonl).toContain('frame.too-deep');
  const csv = (await expectJson(gw, '/api/messages?format=csv')) as string;
  expect(csv).toContain('frame.too-deep');
  JSON.parse((await expectJson(gw, '/api/events')) as string);
  JSON.parse((await expectJson(gw, '/api/events?chargeBoxId=CP-DEEP')) as string);
  JSON.parse((await expectJson(gw, '/api/health')) as string);
}

describe('read APIs after a deeply nested payload', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('every read endpoint answers 200 JSON, also after a restart on the same DATA_DIR', async () => {
    const gw = await startGateway();
    let running = true;
    cleanup.push(async () => void (running && (await gw.stop())));
    const station = await connectStation(gw.wsUrl('CP-DEEP'));
    // Any action: a DataTransfer (whose data becomes an event) and a Heartbeat with a deep payload.
    station.sendRaw(`[2,"deep-1","DataTransfer",{"vendorId":"x","data":${deep(DEPTH)}}]`);
    station.sendRaw(`[2,"deep-2","Heartbeat",{"x":${deep(DEPTH)}}]`);
    await station.waitFor((f) => f[1] === 'deep-2', 20_000);
    await until(async () => (await gw.messageLog.query({ chargeBoxId: ['CP-DEEP'], limit: 10 })).entries.length >= 4, 20_000);
    await readAll(gw);
    station.close();
    await gw.stop();
    running = false;

    const again = await startGateway({ DATA_DIR: gw.dataDir });
    cleanup.push(() => again.stop());
    await readAll(again);
  }, 60_000);

  it('reads what an older version wrote: a deep payload in a day file and a deep event in the journal', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-deep-'));
    const now = new Date();
    const atUs = now.getTime() * 1000;
    mkdirSync(path.join(dataDir, 'messages'), { recursive: true });
    mkdirSync(path.join(dataDir, 'events'), { recursive: true });
    const raw = `[2,"old-1","Heartbeat",{"x":${deep(DEPTH)}}]`;
    const line = { id: 1, time: now.toISOString(), atUs, chargeBoxId: 'CP-OLD', linkKind: 'ws', leg: 'station', direction: 'in', origin: 'station', disposition: 'forwarded', raw, findings: [], messageType: 'CALL', action: 'Heartbeat', messageId: 'old-1' };
    writeFileSync(path.join(dataDir, 'messages', `${now.toISOString().slice(0, 10)}.jsonl`), `${JSON.stringify(line)}\n`);
    // The journal line is text: JSON.stringify could not have written it at this depth, an older version might at a lesser one.
    const event = `{"id":"log:1","seq":1,"type":"dataTransfer","chargeBoxId":"CP-OLD","timestamp":"${now.toISOString()}","receivedAt":"${now.toISOString()}","source":"station","data":{"vendorId":"x","data":${deep(DEPTH)}}}`;
    writeFileSync(path.join(dataDir, 'events', 'journal-1.jsonl'), `${event}\n`);

    const gw = await startGateway({ DATA_DIR: dataDir });
    cleanup.push(() => gw.stop());
    const page = JSON.parse((await expectJson(gw, '/api/messages')) as string) as { entries: LogEntry[] };
    expect(page.entries).toHaveLength(1);
    expect(page.entries[0]?.findings.map((f) => f.rule)).toEqual(['frame.too-deep']);
    expect(page.entries[0]?.raw).toBe(raw);
    for (const format of ['jsonl', 'csv']) expect(await expectJson(gw, `/api/messages?format=${format}`)).toContain('frame.too-deep');
    const events = JSON.parse((await expectJson(gw, '/api/events?chargeBoxId=CP-OLD')) as string) as { events: { seq: number; type: string; data: { rule?: string } }[] };
    expect(events.events).toEqual([expect.objectContaining({ seq: 1, type: 'finding', data: expect.objectContaining({ rule: 'event.too-deep' }) })]);
    JSON.parse((await expectJson(gw, '/api/events')) as string);
    JSON.parse((await expectJson(gw, '/api/stations/CP-OLD/state')) as string);
  });

  it('unknown /api paths, malformed bodies and failing routes answer with the JSON error shape', async () => {
    const gw = await startGateway();
    cleanup.push(() => gw.stop());
    const unknown = await fetch(`${gw.httpUrl}/api/no-such-thing`, { headers: gw.authHeader() });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/application\/json/);
    expect(await unknown.json()).toEqual({ error: { code: 'not_found', message: expect.stringContaining('/api/no-such-thing') } });

    const malformed = await fetch(`${gw.httpUrl}/api/stations/CP1/calls`, {
      method: 'POST',
      headers: { ...gw.authHeader(), 'content-type': 'application/json' },
      body: '{"action": "Reset", ',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: { code: 'bad_request', message: expect.stringMatching(/JSON/) } });

    const tooLarge = await fetch(`${gw.httpUrl}/api/stations/CP1/calls`, {
      method: 'POST',
      headers: { ...gw.authHeader(), 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'DataTransfer', payload: { vendorId: 'x', data: 'y'.repeat(300 * 1024) } }),
    });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toEqual({ error: { code: 'payload_too_large', message: expect.any(String) } });

    const deviceLog = await fetch(`${gw.httpUrl}/api/stations/CP1/device-log?limit=0`, { headers: gw.authHeader() });
    expect(deviceLog.status).toBe(400);
    expect(await deviceLog.json()).toEqual({ error: { code: 'bad_request', message: expect.any(String) } });

  });

  it('a route that throws or rejects gets a 500 in the JSON shape, without the stack', async () => {
    const app = express();
    app.get('/api/throws', () => {
      throw new Error('boom');
    });
    app.get('/api/rejects', async () => {
      await Promise.resolve();
      throw new RangeError('Maximum call stack size exceeded');
    });
    app.get('/metrics', () => {
      throw new Error('registry failed');
    });
    useJsonErrors(app, pino({ level: 'silent' }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    cleanup.push(() => new Promise((r) => server.close(() => r())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const path of ['/api/throws', '/api/rejects', '/metrics']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: expect.any(String) } });
      expect(text).not.toMatch(/ at |boom|registry failed/);
    }
    const missing = await fetch(`${base}/api/nothing/here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
