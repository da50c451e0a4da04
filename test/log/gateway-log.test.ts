// End to end through a real gateway (embedded central system): a station's frames, good and bad, land in the
// message log with findings and raw bytes, are listed by GET /api/messages, and are still there after a restart.
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/events/observations.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import { until } from './helpers.js';

describe('message log in a running gateway', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('records every frame of a station, refused ones included, and keeps them across a restart', async () => {
    const gw = await startGateway();
    let running = true;
    cleanup.push(async () => void (running && (await gw.stop())));

    const station = await connectStation(gw.wsUrl('CP-E2E'));
    await station.call('BootNotification', { chargePointVendor: 'flash', chargePointModel: 'HIL' }, 'boot-1');
    await station.call('StatusNotification', { connectorId: 1, errorCode: 'NoError' }, 'status-1'); // no status: a finding
    station.sendRaw('this is not json');
    // Refused for its shape (a fifth element), judged on the whole text; the log keeps only its first 4,096
    // characters, which on their own are not even JSON: its finding must still be the relay's.
    const longBad = JSON.stringify([2, 'long-bad', 'DataTransfer', { vendorId: 'V', data: 'd'.repeat(6000) }, 'fifth']);
    station.sendRaw(longBad);
    const hb = await station.call('Heartbeat', {}, 'hb-1');
    expect(hb[0]).toBe(3); // the relay still answers after the garbage

    const query = async (g: TestGateway, q: string): Promise<LogEntry[]> => {
      const res = await fetch(`${g.httpUrl}/api/messages?chargeBoxId=CP-E2E&${q}`, { headers: g.authHeader() });
      expect(res.status).toBe(200);
      return ((await res.json()) as { entries: LogEntry[] }).entries;
    };
    let entries: LogEntry[] = [];
    await until(async () => {
      entries = await query(gw, 'limit=1000');
      return entries.some((e) => e.messageId === 'hb-1' && e.messageType === 'CALLRESULT');
    });
    // The log reveals station data: no token, no entries; viewers get none either (it is the frame stream's history).
    expect((await fetch(`${gw.httpUrl}/api/messages`)).status).toBe(401);
    expect((await fetch(`${gw.httpUrl}/api/messages`, { headers: gw.authHeader('viewer', ['CP-E2E']) })).status).toBe(403);
    const ids = entries.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['boot-1', 'status-1', 'hb-1']) {
      expect(entries.filter((e) => e.messageId === id).map((e) => e.messageType).sort(), id).toEqual(['CALL', 'CALLRESULT']);
    }

    const statusIn = entries.find((e) => e.messageId === 'status-1' && e.messageType === 'CALL');
    expect(statusIn?.findings).toEqual([expect.objectContaining({ rule: 'schema.required', field: '/status' })]);
    const refused = entries.find((e) => e.raw === 'this is not json');
    expect(refused).toMatchObject({ disposition: 'refused', direction: 'in', leg: 'station' });
    expect(refused?.findings[0]?.rule).toBe('frame.not-json');
    const cut = entries.find((e) => e.raw.startsWith('[2,"long-bad"'));
    expect(cut?.raw.startsWith(longBad.slice(0, 4096))).toBe(true);
    expect(cut?.findings.map((f) => f.rule)).toEqual(['frame.bad-shape']);
    expect((await query(gw, 'hasFindings=true')).map((e) => e.id)).toEqual(entries.filter((e) => e.findings.length > 0).map((e) => e.id));
    expect((await query(gw, 'messageType=CALLRESULT&action=Heartbeat')).map((e) => e.messageId)).toEqual(['hb-1']);

    station.close();
    await gw.stop();
    running = false;
    const again = await startGateway({ DATA_DIR: gw.dataDir });
    cleanup.push(() => again.stop());
    const after = await query(again, 'limit=1000');
    expect(after.map((e) => e.id)).toEqual(ids);
    expect(after.find((e) => e.id === refused?.id)?.raw).toBe('this is not json');
  });
});
