// Fault rules from the outside: REST (operators only, 400 naming the field, 409 for a station not connected),
// Socket.IO `faults` (set, list, remove, clear; viewers refused), and `injected` entries in /api/messages and the
// live frame stream. Embedded mode: the gateway's own central system answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { ack, collect, connect, operatorToken, SECRET, until, viewerToken } from '../push/support/harness.js';
import type { LogEntry } from '../../src/events/observations.js';
import type { FaultRuleView } from '../../src/relay/faults/index.js';

let gw: TestGateway;
let st: StationClient;
const ID = 'F-API';

beforeAll(async () => {
  gw = await startGateway({ JWT_SECRET: SECRET });
  st = await connectStation(gw.wsUrl(ID));
  await st.call('Heartbeat', {});
});
afterAll(async () => {
  st?.close();
  await gw?.stop();
});

const post = (id: string, body: unknown, headers: Record<string, string> = gw.authHeader()) =>
  fetch(`${gw.httpUrl}/api/stations/${id}/faults`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('REST /api/stations/:id/faults', () => {
  it('refuses viewers (403) and requests without a token (401)', async () => {
    expect((await post(ID, { kind: 'drop' }, gw.authHeader('viewer', [ID]))).status).toBe(403);
    expect((await fetch(`${gw.httpUrl}/api/stations/${ID}/faults`, { headers: gw.authHeader('viewer', [ID]) })).status).toBe(403);
    expect((await fetch(`${gw.httpUrl}/api/stations/${ID}/faults`)).status).toBe(401);
    expect(gw.relay.faults.list(ID)).toEqual([]);
  });

  it('answers a bad rule with 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ kind: 'explode' }, 'kind'],
      [{ kind: 'drop', rate: 2 }, 'rate'],
      [{ kind: 'drop', direction: 'sideways' }, 'direction'],
      [{ kind: 'delay' }, 'delay'],
      [{ kind: 'delay', delay: { min: 5, max: 1 } }, 'delay.max'],
      [{ kind: 'stall', direction: 'toStation' }, 'durationS'],
      [{ kind: 'answer', actions: ['Authorize'], answer: { idTagStatus: 'Maybe' } }, 'idTagStatus'],
      [{ kind: 'answer', actions: ['Authorize'], answer: { callError: { code: 'FormatViolation' } } }, 'code'],
      [{ kind: 'drop', colour: 'red' }, 'colour'],
      [{ kind: 'drop', messageTypes: ['CALLBACK'] }, 'messageTypes'],
      [{ kind: 'cut', code: 1006 }, 'code'],
      [{ kind: 'drop', durationS: 1, until: '2030-01-01T00:00:00Z' }, 'until'],
    ];
    for (const [rule, field] of cases) {
      const res = await post(ID, rule);
      const body = (await res.json()) as { error: { code: string; field: string; message: string } };
      expect(res.status, JSON.stringify(rule)).toBe(400);
      expect(body.error, JSON.stringify(rule)).toMatchObject({ code: 'GW_ERR_FAULT_INVALID', field });
      expect(body.error.message).toContain(field);
    }
  });

  it('sets, lists with who and when, deletes one, clears all; a station not connected needs persistent', async () => {
    const res = await post(ID, { kind: 'delay', delay: 10, durationS: 600 });
    expect(res.status).toBe(201);
    const rule = (await res.json()) as FaultRuleView;
    expect(rule).toMatchObject({ id: expect.stringMatching(/^f\d+$/), chargeBoxId: ID, setBy: 'test', persistent: false, spec: { kind: 'delay', direction: 'both', rate: 1 } });
    expect(typeof (rule.spec as { seed: number }).seed).toBe('number'); // a seed is chosen and shown, so the run can be repeated
    expect(Date.parse(rule.expiresAt!) - Date.parse(rule.setAt)).toBe(600_000);
    await post(ID, { kind: 'drop', actions: ['DataTransfer'] });
    const listed = (await gw.getJson<{ rules: FaultRuleView[] }>(`/api/stations/${ID}/faults`)).rules;
    expect(listed.map((r) => r.spec.kind)).toEqual(['delay', 'drop']);
    const del = await fetch(`${gw.httpUrl}/api/stations/${ID}/faults/${rule.id}`, { method: 'DELETE', headers: gw.authHeader() });
    expect(del.status).toBe(204);
    expect((await fetch(`${gw.httpUrl}/api/stations/${ID}/faults/${rule.id}`, { method: 'DELETE', headers: gw.authHeader() })).status).toBe(404);
    const cleared = await fetch(`${gw.httpUrl}/api/stations/${ID}/faults`, { method: 'DELETE', headers: gw.authHeader() });
    expect(await cleared.json()).toEqual({ chargeBoxId: ID, removed: 1 });
    expect(gw.relay.faults.list(ID)).toEqual([]);

    const away = await post('NOT-HERE', { kind: 'drop' });
    expect(away.status).toBe(409);
    expect(((await away.json()) as { error: { message: string } }).error.message).toContain('persistent');
    expect((await post('NOT-HERE', { kind: 'drop', persistent: true })).status).toBe(201);
    await fetch(`${gw.httpUrl}/api/stations/NOT-HERE/faults`, { method: 'DELETE', headers: gw.authHeader() });
  });
});

describe('injected frames in the message log and the live frame stream', () => {
  it('/api/messages?disposition=injected returns them with the rule; the frame stream carries them', async () => {
    const socket = await connect(gw.httpUrl, { token: operatorToken() });
    const frames = collect<LogEntry>(socket, 'frame');
    expect(await ack(socket, 'frames:subscribe', { chargeBoxIds: [ID] })).toMatchObject({ ok: true });
    const rule = (await (await post(ID, { kind: 'answer', actions: ['Authorize'], answer: { idTagStatus: 'Expired' } })).json()) as FaultRuleView;
    expect((await st.call('Authorize', { idTag: 'X' }))[2]).toEqual({ idTagInfo: { status: 'Expired' } });
    let entries: LogEntry[] = [];
    const end = Date.now() + 10_000;
    while (entries.length < 2 && Date.now() < end) {
      entries = (await gw.getJson<{ entries: LogEntry[] }>(`/api/messages?disposition=injected&chargeBoxId=${ID}`)).entries;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(entries.map((e) => [e.direction, e.action, e.fault])).toEqual(
      expect.arrayContaining([
        ['in', 'Authorize', { ruleId: rule.id, kind: 'answer' }],
        ['out', 'Authorize', { ruleId: rule.id, kind: 'answer' }],
      ]),
    );
    // Other dispositions are not in that page.
    expect(entries.every((e) => e.disposition === 'injected')).toBe(true);
    await until(() => frames.some((f) => f.disposition === 'injected' && f.fault?.ruleId === rule.id), 10_000, 'an injected frame on the live stream');
    socket.close();
    await fetch(`${gw.httpUrl}/api/stations/${ID}/faults`, { method: 'DELETE', headers: gw.authHeader() });
  });
});

describe('Socket.IO faults', () => {
  it('operators set, list, remove and clear; a bad rule names the field; viewers are refused', async () => {
    const op = await connect(gw.httpUrl, { token: operatorToken() });
    const set = await ack<{ ok: true; rule: FaultRuleView }>(op, 'faults', { op: 'set', chargeBoxId: ID, rule: { kind: 'drop', actions: ['DataTransfer'], seed: 9 } });
    expect(set).toMatchObject({ ok: true, rule: { setBy: 'op', spec: { kind: 'drop', seed: 9 } } });
    st.sendRaw(JSON.stringify([2, 'io-dt', 'DataTransfer', { vendorId: 'v' }]));
    await new Promise((r) => setTimeout(r, 300));
    expect(st.received.some((f) => f[1] === 'io-dt')).toBe(false);
    const list = await ack<{ ok: true; rules: FaultRuleView[] }>(op, 'faults', { op: 'list', chargeBoxId: ID });
    expect(list.rules.map((r) => [r.id, r.acted])).toEqual([[set.rule.id, 1]]);
    expect(await ack(op, 'faults', { op: 'set', chargeBoxId: ID, rule: { kind: 'delay', delay: -1 } })).toMatchObject({ ok: false, error: { code: 'invalid_params', field: 'delay' } });
    expect(await ack(op, 'faults', { op: 'remove', chargeBoxId: ID, ruleId: set.rule.id })).toEqual({ ok: true });
    await ack(op, 'faults', { op: 'set', chargeBoxId: ID, rule: { kind: 'drop', actions: ['DataTransfer'] } });
    expect(await ack(op, 'faults', { op: 'clear', chargeBoxId: ID })).toEqual({ ok: true, removed: 1 });
    expect((await st.call('DataTransfer', { vendorId: 'v' }))[0]).toBe(3);
    op.close();

    const viewer = await connect(gw.httpUrl, { token: viewerToken([ID]) });
    expect(await ack(viewer, 'faults', { op: 'set', chargeBoxId: ID, rule: { kind: 'drop' } })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    viewer.close();
    expect(gw.relay.faults.list(ID)).toEqual([]);
  });
});
