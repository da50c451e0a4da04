// Runs a scenario (scenario.ts) against a started simulator: steps in order, an action spread over its stations,
// waits polled against the stations' views; times are in seconds of the simulator's clock, so a scenario with
// `speed` runs faster than real time. Ends with a result per step and the simulator's totals.
import type { Simulator, SimTotals } from './simulator.js';
import { ScenarioError, selectIds, type Scenario, type ScenarioStep, type WaitCondition } from './scenario.js';
import type { SimStationInfo } from './station.js';
import { ScenarioFaultSteps, type ScenarioFaults } from './scenario-faults.js';

function meets(s: SimStationInfo, cond: WaitCondition): boolean {
  switch (cond) {
    case 'online': return s.online;
    case 'offline': return !s.online;
    case 'booted': return s.booted && s.online;
    case 'charging': return s.connectors.some((c) => c.status === 'Charging');
    case 'idle': return s.online && s.queued === 0 && s.connectors.every((c) => c.status === 'Available' && c.transactionId === undefined);
  }
}

export interface StepResult {
  readonly label: string;
  readonly ok: boolean;
  /** Seconds of simulator time the step took. */
  readonly seconds: number;
  readonly detail?: string;
}

export interface ScenarioResult {
  readonly name: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly steps: readonly StepResult[];
  readonly totals: SimTotals;
}

export interface RunOptions {
  /** Called about once a second (real time) with what is going on. */
  readonly onProgress?: (line: string, totals: SimTotals) => void;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  /** Where `fault` / `clearFaults` steps go; a scenario with such steps fails them without it. */
  readonly faults?: ScenarioFaults;
  /** Simulator seconds per real second: a fault's durationS is divided by it for the gateway. */
  readonly timeScale?: number;
}

const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function describeStep(step: ScenarioStep, i: number): string {
  if (step.label) return step.label;
  if ('action' in step) return `#${i + 1} ${step.action.type}${step.over ? ` over ${step.over}s` : ''}`;
  if ('waitFor' in step) return `#${i + 1} wait for ${step.waitFor}`;
  if ('fault' in step) return `#${i + 1} fault ${String(step.fault.kind)}`;
  if ('clearFaults' in step) return `#${i + 1} clear ${step.clearFaults === 'all' ? 'all faults' : 'faults'}`;
  return `#${i + 1} sleep ${step.sleep}s`;
}

/** Runs the steps against a started simulator that holds the scenario's stations. */
export async function runScenario(scenario: Scenario, sim: Simulator, opts: RunOptions = {}): Promise<ScenarioResult> {
  const clock = sim.clock;
  const ids = scenario.stations.map((s) => s.id);
  const poll = opts.pollMs ?? 20;
  const t0 = clock.now();
  let lastProgress = 0;
  let current = '';
  const progress = (): void => {
    if (!opts.onProgress || Date.now() - lastProgress < 1000) return;
    lastProgress = Date.now();
    const t = sim.totals();
    opts.onProgress(
      `t=${((clock.now() - t0) / 1000).toFixed(0)}s ${current} | online ${t.online}/${t.stations} booted ${t.booted} charging ${t.charging} tx ${t.txStarted}/${t.txStopped} energy ${(t.energyWh / 1000).toFixed(2)} kWh queued ${t.queued}`,
      t,
    );
  };
  /** One poll: stop if aborted, report progress, let `ms` of real time pass. */
  const pause = async (ms: number): Promise<void> => {
    if (opts.signal?.aborted) throw new ScenarioError('aborted');
    progress();
    await sleepReal(ms);
  };
  const waitVirtual = async (ms: number): Promise<void> => {
    const end = clock.now() + ms;
    while (clock.now() < end) await pause(poll);
  };

  const faults = new ScenarioFaultSteps(opts.faults, opts.timeScale ?? 1);
  const results: StepResult[] = [];
  try {
    for (const [i, step] of scenario.steps.entries()) {
      const label = describeStep(step, i);
      current = label;
      if ('after' in step && step.after) await waitVirtual(step.after * 1000);
      const start = clock.now();
      if ('sleep' in step) {
        await waitVirtual(step.sleep * 1000);
        results.push({ label, ok: true, seconds: (clock.now() - start) / 1000 });
        continue;
      }
      const targets = selectIds(ids, step.stations);
      if ('fault' in step || 'clearFaults' in step) {
        const problem = 'fault' in step ? await faults.set(targets, step.fault) : await faults.clear(targets, step.clearFaults === 'all');
        results.push({ label, ok: problem === undefined, seconds: (clock.now() - start) / 1000, ...(problem ? { detail: problem } : {}) });
        if (problem) break;
        continue;
      }
      if ('action' in step) {
        const spread = (step.over ?? 0) * 1000;
        let refused = 0;
        for (let k = 0; k < targets.length; k++) {
          const due = start + (targets.length > 1 ? (spread * k) / targets.length : 0);
          while (clock.now() < due) await pause(Math.min(poll, Math.max(1, due - clock.now())));
          const r = await sim.act(targets[k]!, step.action).catch(() => ({ ok: false }));
          if (!r.ok) refused++;
        }
        results.push({ label, ok: true, seconds: (clock.now() - start) / 1000, ...(refused > 0 ? { detail: `${refused} of ${targets.length} refused` } : {}) });
        continue;
      }
      const timeoutMs = (step.timeout ?? 300) * 1000;
      let ok = false;
      for (;;) {
        const infos = targets.map((id) => sim.get(id));
        const missing = infos.filter((s) => !meets(s, step.waitFor)).length;
        if (missing === 0) {
          ok = true;
          break;
        }
        if (clock.now() - start > timeoutMs) {
          results.push({ label, ok: false, seconds: (clock.now() - start) / 1000, detail: `${missing} of ${targets.length} not ${step.waitFor} after ${step.timeout ?? 300}s` });
          break;
        }
        await pause(poll * 10);
      }
      if (ok) results.push({ label, ok: true, seconds: (clock.now() - start) / 1000 });
      else break;
    }
  } finally {
    // Rules outlive a scenario only if it says so: its own are removed at the end, whatever happened.
    await faults.clear(ids, false).catch(() => undefined);
  }
  const ok = results.length === scenario.steps.length && results.every((r) => r.ok);
  return { name: scenario.name, ok, seconds: (clock.now() - t0) / 1000, steps: results, totals: sim.totals() };
}

export function formatResult(r: ScenarioResult): string {
  const t = r.totals;
  const lines = [
    `scenario "${r.name}": ${r.ok ? 'PASSED' : 'FAILED'} in ${r.seconds.toFixed(1)} s (simulated)`,
    ...r.steps.map((s) => `  ${s.ok ? 'ok  ' : 'FAIL'} ${s.label} — ${s.seconds.toFixed(1)} s${s.detail ? ` (${s.detail})` : ''}`),
    `  stations ${t.stations}, online ${t.online}, booted ${t.booted}, charging ${t.charging}`,
    `  transactions started ${t.txStarted}, stopped ${t.txStopped}, energy ${(t.energyWh / 1000).toFixed(3)} kWh`,
    `  frames out ${t.framesOut}, in ${t.framesIn}; call errors ${t.callErrors}, timeouts ${t.timeouts}, dropped ${t.dropped}, still queued ${t.queued}`,
  ];
  return lines.join('\n');
}
