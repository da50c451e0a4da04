// Issue 12, item 5: one station's garbage must cost others nothing. A station whose every frame breaks a rule made
// one finding event per frame: into the history, the journal and every client's stream. They are now capped per
// station and second, and what goes over is reported once per second with its counts; the message log keeps all.
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/events/observations.js';
import { FindingCap } from '../../src/events/finding-cap.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import { until } from '../support/until.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('FindingCap', () => {
  it('admits perSecond findings per station and second, and reports the rest when the second ends', () => {
    const cap = new FindingCap(2);
    const t = 1_000_000;
    expect([1, 2, 3, 4].map((i) => cap.admit('A', i === 4 ? 'r2' : 'r1', i, `T${i}`, t + i).admitted)).toEqual([true, true, false, false]);
    expect(cap.admit('B', 'r1', 5, 'T5', t + 5).admitted).toBe(true); // another station has its own second
    expect(cap.due(t + 999)).toEqual([]); // A's second has not ended
    const next = cap.admit('A', 'r1', 6, 'T6', t + 1000);
    expect(next).toEqual({ admitted: true, ended: { chargeBoxId: 'A', suppressed: 2, rules: { r1: 1, r2: 1 }, lastLogId: 4, lastTime: 'T4' } });
    expect(cap.capped).toBe(2);
    expect(cap.due(t + 2000)).toEqual([]); // A's and B's seconds ended with nothing over the cap: forgotten
    for (let i = 0; i < 5; i++) cap.admit('C', 'r3', 10 + i, 'T', t + 3000);
    expect(cap.due(t + 3500, true)).toEqual([{ chargeBoxId: 'C', suppressed: 3, rules: { r3: 3 }, lastLogId: 14, lastTime: 'T' }]);
  });
});

interface Finding { id: string; type: string; data: { rule: string; suppressed?: number; rules?: Record<string, number> } }

describe('finding events of a station that breaks rules at full speed', () => {
  async function burst(gw: TestGateway, id: string, n: number): Promise<void> {
    const st = await connectStation(gw.wsUrl(id));
    cleanups.push(() => st.close());
    // connectorId as text: a schema finding on every frame, sent as fast as the socket takes them.
    await Promise.all(Array.from({ length: n }, () => st.call('StatusNotification', { connectorId: 'one', errorCode: 'NoError', status: 'Available' })));
  }

  const findingsOf = async (gw: TestGateway, id: string): Promise<Finding[]> =>
    (await gw.getJson<{ events: Finding[] }>(`/api/events?chargeBoxId=${id}&type=finding&limit=1000`)).events;

  it('sends at most EVENTS_FINDINGS_PER_SECOND of them a second and counts the rest in one report a second', async () => {
    const gw = await startGateway({ EVENTS_FINDINGS_PER_SECOND: '5' });
    cleanups.push(() => gw.stop());
    await burst(gw, 'CP-CAP', 40);
    let findings: Finding[] = [];
    const schema = (): Finding[] => findings.filter((f) => f.data.rule.startsWith('schema.'));
    const reported = (): number => findings.filter((f) => f.data.rule === 'event.findings-capped').reduce((n, f) => n + (f.data.suppressed ?? 0), 0);
    await until(async () => {
      findings = await findingsOf(gw, 'CP-CAP');
      return schema().length + reported() === 40 ? true : undefined;
    }, 10_000, 'every finding either sent or counted in a report');
    // 40 frames within a second or two: at most 5 a second went out, the rest were counted, none lost.
    expect(schema().length).toBeLessThanOrEqual(15);
    expect(reported()).toBeGreaterThanOrEqual(25);
    for (const r of findings.filter((f) => f.data.rule === 'event.findings-capped')) {
      expect(Object.values(r.data.rules ?? {}).reduce((a, b) => a + b, 0)).toBe(r.data.suppressed);
    }
    const health = await gw.getJson<{ events: { findingsCapped: number } }>('/api/health');
    expect(health.events.findingsCapped).toBe(reported());
    // The message log keeps every frame with its finding.
    const page = await gw.getJson<{ entries: LogEntry[] }>('/api/messages?chargeBoxId=CP-CAP&limit=1000');
    const logged = page.entries.filter((e) => e.direction === 'in' && e.action === 'StatusNotification' && e.findings.some((f) => f.rule.startsWith('schema.')));
    expect(logged).toHaveLength(40);
  });

  it('sends every finding of a station under the cap', async () => {
    const gw = await startGateway({});
    cleanups.push(() => gw.stop());
    await burst(gw, 'CP-UNDER', 3);
    let findings: Finding[] = [];
    await until(async () => ((findings = await findingsOf(gw, 'CP-UNDER')).length >= 3 ? true : undefined), 10_000, 'three findings');
    await new Promise((r) => setTimeout(r, 1500)); // a report would come within the second after
    findings = await findingsOf(gw, 'CP-UNDER');
    expect(findings.map((f) => f.data.rule).filter((r) => r.startsWith('schema.'))).toHaveLength(3);
    expect(findings.some((f) => f.data.rule === 'event.findings-capped')).toBe(false);
  });
});
