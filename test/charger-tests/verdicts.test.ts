// The runner can fail, ask and give up: a scripted station over a real WebSocket that breaks the rules gets
// `fail` with the frames that prove it; steps that need a hand wait for the operator's answer over REST and end
// `inconclusive` when nobody answers; in relay mode the cases that need the embedded central system are listed
// as not applicable.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { io } from 'socket.io-client';
import type { TestRunUpdate } from '../../src/events/test-runs.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import type { RunReport } from '../../src/charger-tests/index.js';
import { postJson, startRun, until, waitReport } from './helpers.js';

/** Returned by a scripted answer: the station answers with this CALLERROR instead of a result. */
const CALL_ERROR = Symbol('callError');
const callError = (code: string) => ({ [CALL_ERROR]: code });

/** A station whose every answer the test writes; it can also send calls of its own. */
async function scriptedStation(url: string, answer: (action: string, payload: Record<string, unknown>) => unknown) {
  const ws = new WebSocket(url, ['ocpp1.6']);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let seq = 0;
  const answers = new Map<string, unknown>();
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as unknown[];
    if (f[0] === 2) {
      const a = answer(f[2] as string, f[3] as Record<string, unknown>) as Record<symbol, unknown>;
      const code = typeof a === 'object' && a !== null ? a[CALL_ERROR] : undefined;
      ws.send(JSON.stringify(typeof code === 'string' ? [4, f[1], code, `${f[2] as string} is not implemented`, {}] : [3, f[1], a]));
    }
    else answers.set(f[1] as string, f[2]);
  });
  const call = async (action: string, payload: unknown): Promise<unknown> => {
    const id = `s${++seq}`;
    ws.send(JSON.stringify([2, id, action, payload]));
    return until(() => answers.get(id), 10_000, `answer to ${action}`);
  };
  return { ws, call };
}

describe('verdicts against a scripted station (embedded mode)', () => {
  let gw: TestGateway;
  let casesDir: string;
  beforeAll(async () => {
    casesDir = mkdtempSync(path.join(os.tmpdir(), 'cb-cases-'));
    mkdirSync(path.join(casesDir, 'bench'));
    writeFileSync(path.join(casesDir, 'bench', 'plug.yaml'), [
      'name: plug-in-nobody-there',
      'title: A step that needs a hand',
      'spec: test of the runner',
      'steps:',
      '  - ask: Plug the cable in',
      '    timeout: 1',
      '  - expect: StatusNotification',
    ].join('\n'));
    mkdirSync(path.join(casesDir, 'broken'));
    writeFileSync(path.join(casesDir, 'broken', 'bad.yaml'), 'name: bad\ntitle: t\nspec: s\nsteps:\n  - expect: Heartbeat\n    checks: [noSuchCheck]\n');
    gw = await startGateway({ CHARGER_TESTS_DIR: casesDir });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('names the suites it has when asked for one it does not', async () => {
    const st = await scriptedStation(gw.wsUrl('NOSUITE'), () => ({}));
    try {
      await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
      const r = await postJson(gw, '/api/stations/NOSUITE/tests', { suite: 'core' });
      expect(r.status).toBe(400);
      expect((r.body.error as { message: string }).message).toMatch(/no suite "core" in .*\(suites: bench, broken\)/);
    } finally {
      st.ws.close();
    }
  });

  it('asks the operator, continues on the answer, and is inconclusive when nobody answers', async () => {
    const st = await scriptedStation(gw.wsUrl('HANDS'), () => ({}));
    try {
      await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
      // Nobody answers: inconclusive, naming the prompt.
      const first = await waitReport(gw, await startRun(gw, 'HANDS', { suite: 'bench' }), 20_000);
      expect(first.cases[0]).toMatchObject({ verdict: 'inconclusive' });
      expect(first.cases[0]!.reason).toMatch(/nobody confirmed "Plug the cable in"/);
      // Answered over Socket.IO, as a UI would: the run goes on and the station's StatusNotification passes.
      const token = gw.authHeader('operator').authorization.slice('Bearer '.length);
      const socket = io(gw.httpUrl, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
      const asks: TestRunUpdate[] = [];
      socket.on('test', (u: TestRunUpdate) => u.kind === 'ask' && asks.push(u));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      expect(await socket.timeout(5000).emitWithAck('tests:subscribe')).toEqual({ ok: true });
      const runId = await startRun(gw, 'HANDS', { suite: 'bench' });
      const pushed = await until(() => asks[0], 5000, 'the question over Socket.IO');
      const asked = (pushed.report as RunReport).ask!;
      expect(asked.prompt).toBe('Plug the cable in');
      await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
      expect(await socket.timeout(5000).emitWithAck('tests:answer', { runId, askId: 'nope' })).toMatchObject({ ok: false, error: { code: 'invalid_params' } });
      expect(await socket.timeout(5000).emitWithAck('tests:answer', { runId, askId: asked.askId, answer: 'done' })).toEqual({ ok: true });
      socket.close();
      await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
      const second = await waitReport(gw, runId, 20_000);
      expect(second.cases[0]).toMatchObject({ verdict: 'pass' });
      expect(second.cases[0]!.evidence.some((e) => e.action === 'StatusNotification' && e.flow === 'station→cs')).toBe(true);
      // Aborted while it asks: the run ends at once, the case inconclusive.
      const third = await startRun(gw, 'HANDS', { suite: 'bench' });
      await until(async () => (await gw.getJson<RunReport>(`/api/tests/${third}`)).ask, 5000, 'the question');
      const busy = await postJson(gw, '/api/stations/HANDS/tests', { suite: 'bench' });
      expect(busy.status).toBe(409);
      expect((busy.body.error as { message: string }).message).toBe(`a test run is already going on HANDS: ${third}`);
      const del = await fetch(`${gw.httpUrl}/api/tests/${third}`, { method: 'DELETE', headers: gw.authHeader() });
      expect(del.status).toBe(202);
      const aborted = await waitReport(gw, third, 5000);
      expect(aborted).toMatchObject({ state: 'aborted', cases: [{ verdict: 'inconclusive', reason: 'the run was aborted' }] });
    } finally {
      st.ws.close();
    }
  });

  it('lists its suites, with the error of a broken one', async () => {
    const r = await gw.getJson<{ suites: { suite: string; cases: { name: string }[]; error?: string }[] }>('/api/test-suites');
    expect(r.suites.map((x) => [x.suite, x.cases.map((c) => c.name)])).toEqual([['bench', ['plug-in-nobody-there']], ['broken', []]]);
    expect(r.suites[1]!.error).toMatch(/unknown check "noSuchCheck"/);
  });

  it('refuses a broken case file with the file and the field, an unknown station, and viewers', async () => {
    const bad = await postJson(gw, '/api/stations/HANDS/tests', { suite: 'broken' });
    expect(bad.status).toBe(400);
    expect((bad.body.error as { message: string }).message).toMatch(/bad\.yaml steps\[0\]: unknown check "noSuchCheck"/);
    const absent = await postJson(gw, '/api/stations/NOBODY/tests', { suite: 'bench' });
    expect(absent.status).toBe(409);
    expect((absent.body.error as { message: string }).message).toMatch(/not connected/);
    const viewer = await fetch(`${gw.httpUrl}/api/stations/HANDS/tests`, {
      method: 'POST', headers: { ...gw.authHeader('viewer', ['HANDS']), 'content-type': 'application/json' }, body: '{"suite":"bench"}',
    });
    expect(viewer.status).toBe(403);
  });
});

describe('verdicts with the shipped core suite (embedded mode)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('fails a station that lists an unknown key as known, citing the gateway call and the answer', async () => {
    const st = await scriptedStation(gw.wsUrl('BAD-CFG'), (action) =>
      action === 'GetConfiguration' ? { configurationKey: [{ key: 'ChargebridgeNoSuchKey', readonly: false, value: '1' }, { key: 'HeartbeatInterval', readonly: false, value: '60' }] } : {});
    try {
      await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
      const report = await waitReport(gw, await startRun(gw, 'BAD-CFG', { suite: 'core', cases: ['get-configuration-unknown-key'] }), 30_000);
      const c = report.cases[0]!;
      expect(c.verdict).toBe('fail');
      expect(c.reason).toMatch(/GetConfiguration: result\.unknownKey/);
      expect(c.failedStep?.index).toBe(0);
      const flows = c.evidence.map((e) => `${e.flow} ${e.messageType ?? ''} ${e.action ?? ''}`);
      expect(flows).toEqual(['gateway→station CALL GetConfiguration', 'station→gateway CALLRESULT GetConfiguration']);
      // JUnit and HTML carry the failure and the frames.
      const junit = await (await fetch(`${gw.httpUrl}/api/tests/${report.runId}?format=junit`, { headers: gw.authHeader() })).text();
      expect(junit).toMatch(/<failure message="GetConfiguration: result\.unknownKey/);
      expect(junit).toContain(`#${c.evidence[0]!.logId} `);
      const html = await (await fetch(`${gw.httpUrl}/api/tests/${report.runId}?format=html`, { headers: gw.authHeader() })).text();
      expect(html).toContain('get-configuration-unknown-key');
      expect(html).not.toMatch(/<script|<link|src="http/);
    } finally {
      st.ws.close();
    }
  });

  it('runs a feature-profile case only on a station that lists the profile, and judges the answers', async () => {
    let version = 0;
    const answers = (listed: string, keep: boolean) => (action: string, payload: Record<string, unknown>): unknown => {
      if (action === 'GetConfiguration') return { configurationKey: [{ key: 'SupportedFeatureProfiles', readonly: true, value: listed }] };
      if (action === 'SendLocalList') {
        if (keep) version = payload.listVersion as number;
        return { status: 'Accepted' };
      }
      if (action === 'GetLocalListVersion') return { listVersion: version };
      return {};
    };
    const run = async (id: string, listed: string, keep: boolean) => {
      const st = await scriptedStation(gw.wsUrl(id), answers(listed, keep));
      try {
        await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
        return (await waitReport(gw, await startRun(gw, id, { suite: 'local-auth-list', cases: ['local-list-version'] }), 30_000)).cases[0]!;
      } finally {
        st.ws.close();
      }
    };
    expect(await run('LL-NONE', 'Core,RemoteTrigger', true)).toMatchObject({ verdict: 'not_applicable', reason: 'the station does not list LocalAuthListManagement in SupportedFeatureProfiles (Core,RemoteTrigger)' });
    expect((await run('LL-GOOD', 'Core,LocalAuthListManagement', true)).verdict).toBe('pass');
    version = 0;
    const forgetful = await run('LL-BAD', 'Core,LocalAuthListManagement', false);
    expect(forgetful.verdict).toBe('fail');
    expect(forgetful.reason).toBe('GetLocalListVersion: result.listVersion is 0, expected 5');
  });

  it('a case the station cannot do (NotSupported / NotImplemented) is not applicable; wrong answers still fail', async () => {
    const run = async (id: string, answer: (action: string, payload: Record<string, unknown>) => unknown, cases: string[]) => {
      const st = await scriptedStation(gw.wsUrl(id), answer);
      try {
        await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
        return (await waitReport(gw, await startRun(gw, id, { suite: 'security', cases }), 30_000)).cases;
      } finally {
        st.ws.close();
      }
    };
    // No AuthorizationKey (ChangeConfiguration NotSupported), no security extension (CALLERROR NotImplemented).
    const lacking = await run('SEC-NONE', (action) => (action === 'ExtendedTriggerMessage' ? callError('NotImplemented') : action === 'ChangeConfiguration' ? { status: 'NotSupported' } : {}), ['authorization-key-rotation', 'extended-trigger-message']);
    expect(lacking.map((c) => [c.name, c.verdict])).toEqual([['authorization-key-rotation', 'not_applicable'], ['extended-trigger-message', 'not_applicable']]);
    expect(lacking[0]!.reason).toBe('the station answers ChangeConfiguration with status NotSupported: it does not have the feature this case checks');
    expect(lacking[1]!.reason).toBe('the station does not support ExtendedTriggerMessage (CALLERROR NotImplemented: ExtendedTriggerMessage is not implemented)');
    // Takes the key but reads it back: the key is write-only.
    const leaky = await run('SEC-LEAK', (action) => (action === 'ChangeConfiguration' ? { status: 'Accepted' } : action === 'GetConfiguration' ? { configurationKey: [{ key: 'AuthorizationKey', readonly: false, value: 'x'.repeat(24) }] } : {}), ['authorization-key-rotation']);
    expect(leaky[0]).toMatchObject({ verdict: 'fail', reason: expect.stringMatching(/^GetConfiguration: result\.configurationKey has no element matching/) });
    // Answers CALLERROR NotImplemented where the case expected one: no escape into not applicable.
    const rejecting = await run('SEC-REJ', (action) => (action === 'ChangeConfiguration' ? { status: 'Rejected' } : {}), ['authorization-key-rotation']);
    expect(rejecting[0]).toMatchObject({ verdict: 'fail', reason: 'ChangeConfiguration: result.status is "Rejected", expected "Accepted"' });
  });

  it('fails a station that starts a transaction for a tag answered Invalid', async () => {
    const st = await scriptedStation(gw.wsUrl('BAD-AUTH'), () => ({}));
    try {
      await st.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
      const runId = await startRun(gw, 'BAD-AUTH', { suite: 'core', cases: ['authorize-invalid'] });
      // Plug in: the person at the bench confirms after the station reported it.
      let ask = await until(async () => (await gw.getJson<RunReport>(`/api/tests/${runId}`)).ask, 5000, 'plug-in question');
      await st.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
      await postJson(gw, `/api/tests/${runId}/asks/${ask.askId}`, {});
      ask = await until(async () => {
        const a = (await gw.getJson<RunReport>(`/api/tests/${runId}`)).ask;
        return a && a.askId !== ask.askId && a;
      }, 5000, 'tag question');
      expect(ask.prompt).toMatch(/answers every tag Invalid/);
      const auth = (await st.call('Authorize', { idTag: 'CARD1' })) as { idTagInfo: { status: string } };
      expect(auth.idTagInfo.status).toBe('Invalid');
      // Only the station under test is answered Invalid: the case's settings are its own.
      const other = await scriptedStation(gw.wsUrl('BYSTANDER'), () => ({}));
      expect(await other.call('Authorize', { idTag: 'CARD1' })).toEqual({ idTagInfo: { status: 'Accepted' } });
      other.ws.close();
      await postJson(gw, `/api/tests/${runId}/asks/${ask.askId}`, { answer: 'done' });
      await st.call('StartTransaction', { connectorId: 1, idTag: 'CARD1', meterStart: 0, timestamp: new Date().toISOString() });
      // The cleanup asks to unplug: confirm it too.
      const unplug = await until(async () => {
        const a = (await gw.getJson<RunReport>(`/api/tests/${runId}`)).ask;
        return a && a.askId !== ask.askId && a;
      }, 15_000, 'unplug question');
      expect(unplug.prompt).toMatch(/Unplug/);
      await postJson(gw, `/api/tests/${runId}/asks/${unplug.askId}`, { answer: 'skipped' });
      const report = await waitReport(gw, runId, 30_000);
      const c = report.cases[0]!;
      expect(c.verdict).toBe('fail');
      expect(c.reason).toMatch(/the station sent StartTransaction/);
      expect(c.evidence.some((e) => e.action === 'StartTransaction')).toBe(true);
      // The station's own settings are gone after the case.
      expect(gw.testCs.overrideOf('BAD-AUTH')).toBeUndefined();
      expect(gw.testCs.settingsFor('BAD-AUTH').unknownTags).toBe('Accepted');
    } finally {
      st.ws.close();
    }
  });
});

describe('relay mode (SteVe double upstream)', () => {
  let steve: SteveDouble;
  let gw: TestGateway;
  beforeAll(async () => {
    steve = await startSteveDouble();
    gw = await startGateway({ STEVE_WS_URL: steve.url, SIM_BOOT_DELAY_MS: '200' }, { simClockSpeed: 10 });
    gw.sim.create({ id: 'RELAY-SIM', autopilot: false });
    await until(() => gw.relay.stations().some((s) => s.chargeBoxId === 'RELAY-SIM' && s.upstream === 'open'), 20_000, 'the station');
  });
  afterAll(async () => {
    await gw?.stop();
    await steve?.close();
  });

  it('lists the cases that need the embedded central system as not applicable and runs the others (a fault case too)', async () => {
    const report = await waitReport(gw, await startRun(gw, 'RELAY-SIM', { suite: 'core', cases: ['boot-pending-then-accepted', 'get-configuration-unknown-key', 'authorize-blocked', 'central-system-silent'] }), 90_000);
    expect(report.mode).toBe('steve');
    expect(report.cases.map((c) => [c.name, c.verdict])).toEqual([
      ['boot-pending-then-accepted', 'not_applicable'],
      ['get-configuration-unknown-key', 'pass'],
      ['authorize-blocked', 'not_applicable'],
      ['central-system-silent', 'pass'],
    ]);
    // SteVe never saw the StopTransaction sent into the silence: the one it got came after the rule ended.
    const silent = report.cases[3]!;
    expect(silent.steps.find((s) => s.label.startsWith('fault'))?.detail).toMatch(/^fault f\d+ \(upstreamDown\) set until /);
    expect(steve.received.filter((r) => r.chargeBoxId === 'RELAY-SIM' && r.frame[2] === 'StopTransaction')).toHaveLength(1);
    expect(gw.relay.faults.list('RELAY-SIM')).toEqual([]);
    expect(report.cases[0]!.reason).toMatch(/without STEVE_WS_URL/);
    const put = await fetch(`${gw.httpUrl}/api/test-cs`, { method: 'PUT', headers: { ...gw.authHeader(), 'content-type': 'application/json' }, body: '{}' });
    expect(put.status).toBe(409);
  }, 120_000);
});
