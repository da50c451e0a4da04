// Part 4 of issue #14, "proof that the tests can fail": a simulated station given one deliberate firmware defect
// fails exactly the core cases that check that behaviour, for the right reason, while the other cases it runs keep
// the verdict the healthy station gets in catalogue-sim.test.ts (pass). Embedded mode, fast clock, run over REST as
// an operator would; one station per defect, the defects run side by side.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';
import type { Defect } from '../../src/sim/defects.js';
import { explain, postJson, startRun, until, waitReport } from './helpers.js';

const SPEED = 5; // as catalogue-sim.test.ts: the healthy cases beside the failing ones measure spacing on arrival

interface Proof {
  readonly defect: Defect;
  /** The cases that must fail, each with what its failure must say. */
  readonly fails: Readonly<Record<string, RegExp>>;
  /** Cases that must keep passing: the ones nearest to the defect's behaviour. */
  readonly passes: readonly string[];
}

// The table in docs/charger-tests.md ("Proof that the cases can fail") is this one.
const PROOFS: readonly Proof[] = [
  {
    defect: 'forgetsOfflineQueue',
    fails: { 'offline-transaction': /expected StopTransaction matching \{"transactionId":\d+\} within 120 s; found 0/ },
    // A hard reset reconnects too, but its StopTransaction was queued while online.
    passes: ['status-sequence', 'hard-reset-during-transaction'],
  },
  {
    defect: 'wrongResetStopReason',
    fails: {
      'soft-reset-during-transaction': /StopTransaction matching .*closest: log #\d+: reason is "PowerLoss", expected "SoftReset"/,
      'hard-reset-during-transaction': /StopTransaction matching .*closest: log #\d+: reason is "PowerLoss", expected "HardReset"/,
    },
    passes: ['remote-start-stop', 'configuration-persisted', 'unlock-connector'],
  },
  {
    defect: 'ignoresHeartbeatInterval',
    fails: { 'heartbeat-interval': /expected 5× Heartbeat within 25 s; found [0-4]/ },
    // The Pending answer's retry interval is still honoured.
    passes: ['boot-pending-then-accepted', 'configuration-persisted', 'trigger-heartbeat'],
  },
  {
    defect: 'meterValuesWithoutTransactionId',
    fails: {
      'meter-values': /check transactionIdPresent: log #\d+: MeterValues during a transaction without transactionId/,
      'offline-transaction': /expected 2× MeterValues matching \{"transactionId":\d+\}.*transactionId is missing/,
    },
    passes: ['status-sequence', 'trigger-heartbeat'],
  },
  {
    defect: 'doesNotPersistConfiguration',
    fails: { 'configuration-persisted': /GetConfiguration: result\.configurationKey has no element matching \{"key":"MeterValueSampleInterval","value":"17"\}/ },
    // Its reset takes HeartbeatInterval from the boot answer again; a change without a reboot still applies.
    passes: ['heartbeat-interval', 'meter-values', 'get-configuration-unknown-key'],
  },
  {
    defect: 'skipsChargingStatus',
    fails: {
      'status-sequence': /StatusNotification matching \{"connectorId":1,"status":"Charging"\}/,
      'remote-start-stop': /StatusNotification matching \{"connectorId":1,"status":"Charging"\}/,
      'change-availability-scheduled': /StatusNotification matching \{"connectorId":1,"status":"Charging"\}/,
    },
    passes: ['meter-values', 'soft-reset-during-transaction'],
  },
  {
    defect: 'reportsUnknownKeysAsKnown',
    fails: { 'get-configuration-unknown-key': /GetConfiguration: result\.unknownKey is undefined/ },
    // Known keys still read back (both capture one with GetConfiguration).
    passes: ['meter-values', 'configuration-persisted'],
  },
];

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({ SIM_BOOT_DELAY_MS: '300', SIM_RECONNECT_MIN_MS: '200' }, { simClockSpeed: SPEED });
  // Created the way an operator creates them: POST /api/sim/stations with the spec.
  for (const p of PROOFS) {
    const r = await postJson(gw, '/api/sim/stations', { id: stationOf(p.defect), autopilot: false, defects: [p.defect] });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.defects).toEqual([p.defect]); // the station says it is faulty
  }
  const ids = PROOFS.map((p) => stationOf(p.defect));
  await until(() => ids.every((id) => gw.relay.stations().some((s) => s.chargeBoxId === id && s.upstream === 'local')), 30_000, 'the simulated stations');
}, 60_000);
afterAll(async () => {
  await gw?.stop();
});

function stationOf(defect: Defect): string {
  return `FAULTY-${defect}`.slice(0, 64);
}

describe('each simulated firmware defect fails exactly the cases that check it (embedded mode, clock ×5)', () => {
  it('an unknown defect is refused with its name and the defects there are', async () => {
    const r = await postJson(gw, '/api/sim/stations', { id: 'FAULTY-X', defects: ['forgetsOfflineQueue', 'losesItsKeys'] });
    expect(r.status).toBe(400);
    expect((r.body.error as { message: string }).message).toMatch(/\/defects\/1: unknown defect "losesItsKeys"; the defects are forgetsOfflineQueue, wrongResetStopReason, /);
  });

  it.concurrent.each(PROOFS.map((p) => [p.defect, p] as const))('%s', async (_name, proof) => {
    const failing = Object.keys(proof.fails);
    const cases = [...failing, ...proof.passes];
    const runId = await startRun(gw, stationOf(proof.defect), { suite: 'all', cases });
    const report = await waitReport(gw, runId, 150_000);
    expect(report.state).toBe('finished');
    const verdicts = Object.fromEntries(report.cases.map((c) => [c.name, c.verdict]));
    const expected = Object.fromEntries(cases.map((name) => [name, failing.includes(name) ? 'fail' : 'pass']));
    expect(verdicts, explain(report)).toEqual(expected);
    for (const c of report.cases.filter((x) => x.verdict === 'fail')) {
      expect(c.reason, c.name).toMatch(proof.fails[c.name]!);
      // A failure points at the frames that prove it.
      expect(c.evidence.length, c.name).toBeGreaterThan(0);
    }
    if (proof.defect === 'forgetsOfflineQueue') {
      // Lost, not held back: the link came back within the case (its cleanup call was answered) and nothing is queued.
      const offline = report.cases.find((c) => c.name === 'offline-transaction')!;
      expect(offline.steps.find((s) => s.label.startsWith('cleanup: ChangeConfiguration'))?.ok).toBe(true);
      expect(gw.sim.get(stationOf(proof.defect))).toMatchObject({ online: true, queued: 0 });
    }
  }, 180_000);
});
