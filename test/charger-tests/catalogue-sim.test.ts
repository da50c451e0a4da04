// Part 4 of issue #14: the gateway's simulated station passes every case of every suite in embedded mode, on a
// fast clock, run the way an operator runs it (REST), with progress over Socket.IO. The cases for what MicroOcpp 1.2
// does not do (the security extension's messages) are not applicable: the station answers NotSupported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startGateway, type TestGateway } from '../support/gateway.js';
import type { RunReport } from '../../src/charger-tests/index.js';
import type { TestRunUpdate } from '../../src/events/test-runs.js';
import { explain, startRun, until, waitReport } from './helpers.js';

// ×5 rather than more: heartbeat and meter spacing are measured on arrival, so event-loop stalls on a loaded machine
// must stay small against the intervals.
const SPEED = 5;
const STATION = 'BENCH-SIM';
let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({ SIM_BOOT_DELAY_MS: '300', SIM_RECONNECT_MIN_MS: '200' }, { simClockSpeed: SPEED });
  gw.sim.create({ id: STATION, autopilot: false });
  await until(() => gw.relay.stations().some((s) => s.chargeBoxId === STATION && s.upstream === 'local'), 20_000, 'the simulated station');
});
afterAll(async () => {
  await gw?.stop();
});

describe('the catalogue against the simulated station (embedded mode, clock ×5)', () => {
  it('passes every core case (fault injection included)', async () => {
    const token = gw.authHeader('operator').authorization.slice('Bearer '.length);
    const socket: Socket = io(gw.httpUrl, { transports: ['websocket'], reconnection: false, forceNew: true, auth: { token } });
    const updates: TestRunUpdate[] = [];
    socket.on('test', (u: TestRunUpdate) => updates.push(u));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    expect(await socket.timeout(5000).emitWithAck('tests:subscribe')).toEqual({ ok: true });
    let report: RunReport;
    try {
      const runId = await startRun(gw, STATION, { suite: 'core' });
      report = await waitReport(gw, runId, 150_000);
    } finally {
      socket.close();
    }
    expect(report.timeScale).toBe(SPEED);
    const verdicts = Object.fromEntries(report.cases.map((c) => [c.name, c.verdict]));
    // central-system-silent runs with a fault rule (upstream silent), which the case removes again.
    expect(verdicts['central-system-silent'], explain(report)).toBe('pass');
    expect(gw.relay.faults.list(STATION)).toEqual([]);
    expect(report.summary.pass, explain(report)).toBe(report.cases.length);
    expect(verdicts['authorize-concurrent-tx']).toBe('pass');
    // Every passing case cites frames, and the ids are message-log ids.
    for (const c of report.cases.filter((x) => x.verdict === 'pass')) expect(c.evidence.length, c.name).toBeGreaterThan(0);
    // The cited ids are the message log's: the last passing case's frames are all there, same text.
    const last = report.cases.filter((c) => c.verdict === 'pass').at(-1)!;
    const page = await gw.getJson<{ entries: { id: number; raw: string }[] }>(`/api/messages?chargeBoxId=${STATION}&limit=1000`);
    const byId = new Map(page.entries.map((e) => [e.id, e.raw]));
    for (const e of last.evidence) expect(byId.get(e.logId), `${last.name} #${e.logId}`).toBe(e.raw);
    // The simulated firmware breaks no passive conformance rule either.
    expect(report.cases.flatMap((c) => c.findings ?? [])).toEqual([]);
    // Progress was pushed: a start, one line per case, the end.
    const caseUpdates = updates.filter((u) => u.kind === 'case');
    expect(caseUpdates.map((u) => (u.case as { name: string }).name)).toEqual(report.cases.map((c) => c.name));
    expect(updates.every((u) => !('cases' in u.report))).toBe(true);
    expect(updates.at(-1)?.kind).toBe('finished');
  }, 180_000);

  it.each([
    ['remote-trigger', []],
    ['reservation', []],
    ['local-auth-list', []],
    ['smart-charging', []],
    // MicroOcpp 1.2 takes a new AuthorizationKey but has no security-extension messages.
    ['security', ['extended-trigger-message', 'sign-certificate', 'security-event-on-reboot']],
  ] as const)('passes every %s case; not applicable: %j', async (suite, notApplicable) => {
    const report = await waitReport(gw, await startRun(gw, STATION, { suite }), 120_000);
    const na = report.cases.filter((c) => c.verdict === 'not_applicable');
    expect(na.map((c) => c.name), explain(report)).toEqual(notApplicable);
    for (const c of na) expect(c.reason).toMatch(/the station does not support ExtendedTriggerMessage \(CALLERROR NotSupported/);
    expect(report.summary.pass, explain(report)).toBe(report.cases.length - na.length);
    expect(report.cases.flatMap((c) => c.findings ?? [])).toEqual([]);
  }, 150_000);

  it('lists every suite, and "all" runs the whole catalogue by name', async () => {
    const listing = await gw.getJson<{ suites: { suite: string; cases: { name: string }[] }[] }>('/api/test-suites');
    expect(listing.suites.map((x) => x.suite)).toEqual(['core', 'local-auth-list', 'remote-trigger', 'reservation', 'security', 'smart-charging']);
    const report = await waitReport(gw, await startRun(gw, STATION, { suite: 'all', cases: ['trigger-heartbeat', 'clear-unknown-profile'] }), 60_000);
    expect(report.cases.map((c) => [c.name, c.verdict])).toEqual([['trigger-heartbeat', 'pass'], ['clear-unknown-profile', 'pass']]);
  });
});
