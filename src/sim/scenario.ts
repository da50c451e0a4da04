// Scenarios: timed steps over one or many simulated stations, from a JSON or YAML file checked against the
// published schema (scenarios/scenario.schema.json). Steps run in order; times are in seconds of the simulator's
// clock, so a scenario with `speed` runs faster than real time.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { actionSchema, schemaErrorText, stationTemplateSchema, type SimAction, type SimStationSpec } from './spec.js';
import { expandStations } from './config.js';
import type { Simulator, SimTotals } from './index.js';
import type { SimStationInfo } from './station.js';
import { faultRuleSchema, type FaultRuleJson, type ScenarioFaults } from './scenario-faults.js';

export type Selector = 'all' | string | readonly string[] | { readonly from: number; readonly count: number };
export type WaitCondition = 'online' | 'booted' | 'charging' | 'idle' | 'offline';

export type ScenarioStep =
  | { readonly action: SimAction; readonly stations?: Selector; readonly over?: number; readonly after?: number; readonly label?: string }
  | { readonly waitFor: WaitCondition; readonly stations?: Selector; readonly timeout?: number; readonly after?: number; readonly label?: string }
  | { readonly sleep: number; readonly label?: string }
  /** Sets a fault rule (the REST body) on each selected station; `durationS` in simulator seconds. */
  | { readonly fault: FaultRuleJson; readonly stations?: Selector; readonly after?: number; readonly label?: string }
  /** true: removes the rules this scenario set on the selected stations; "all": every rule on them. */
  | { readonly clearFaults: true | 'all'; readonly stations?: Selector; readonly after?: number; readonly label?: string };

export interface Scenario {
  readonly name: string;
  readonly description?: string;
  /** Clock speed for standalone runs (1 = real time). Station timestamps run ahead of the wall clock when > 1. */
  readonly speed?: number;
  /** Seconds over which the stations' first connections are spread. */
  readonly connectOver?: number;
  readonly stations: readonly SimStationSpec[];
  readonly steps: readonly ScenarioStep[];
}

const selectorSchema = {
  oneOf: [
    { type: 'string', minLength: 1, description: '"all", an id, or a prefix ending in *' },
    { type: 'array', items: { type: 'string' }, minItems: 1 },
    { type: 'object', additionalProperties: false, required: ['from', 'count'], properties: { from: { type: 'integer', minimum: 0 }, count: { type: 'integer', minimum: 1 } } },
  ],
};
const seconds = { type: 'number', minimum: 0 };

export const scenarioSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://chargebridge.local/schemas/sim-scenario.json',
  title: 'chargebridge simulator scenario',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'stations', 'steps'],
  properties: {
    name: { type: 'string', minLength: 1 },
    description: { type: 'string' },
    speed: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
    connectOver: seconds,
    stations: { type: 'array', minItems: 1, items: stationTemplateSchema },
    steps: {
      type: 'array',
      items: {
        oneOf: [
          {
            type: 'object', additionalProperties: false, required: ['action'],
            properties: { action: actionSchema, stations: selectorSchema, over: seconds, after: seconds, label: { type: 'string' } },
          },
          {
            type: 'object', additionalProperties: false, required: ['waitFor'],
            properties: {
              waitFor: { enum: ['online', 'booted', 'charging', 'idle', 'offline'] },
              stations: selectorSchema, timeout: seconds, after: seconds, label: { type: 'string' },
            },
          },
          { type: 'object', additionalProperties: false, required: ['sleep'], properties: { sleep: seconds, label: { type: 'string' } } },
          {
            type: 'object', additionalProperties: false, required: ['fault'],
            properties: { fault: faultRuleSchema, stations: selectorSchema, after: seconds, label: { type: 'string' } },
          },
          {
            type: 'object', additionalProperties: false, required: ['clearFaults'],
            properties: { clearFaults: { enum: [true, 'all'] }, stations: selectorSchema, after: seconds, label: { type: 'string' } },
          },
        ],
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });
const check = ajv.compile(scenarioSchema);
const checkFault = ajv.compile(faultRuleSchema);

export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/** Parses and checks a scenario (JSON or YAML text). */
export function parseScenario(text: string, format: 'json' | 'yaml'): Scenario {
  let raw: unknown;
  try {
    raw = format === 'yaml' ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new ScenarioError(`scenario is not valid ${format.toUpperCase()}: ${(err as Error).message}`);
  }
  // A bad fault rule is named precisely (the whole-file check would only say that no kind of step matches).
  const steps = typeof raw === 'object' && raw !== null ? (raw as { steps?: unknown }).steps : undefined;
  if (Array.isArray(steps)) {
    for (const [i, step] of steps.entries()) {
      const rule = typeof step === 'object' && step !== null ? (step as { fault?: unknown }).fault : undefined;
      if (rule !== undefined && !checkFault(rule)) throw new ScenarioError(`scenario does not match the schema: steps[${i}].fault${schemaErrorText(checkFault.errors?.[0], rule).replace(/^\/ /, ': ')}`);
    }
  }
  if (!check(raw)) {
    throw new ScenarioError(`scenario does not match the schema: ${schemaErrorText(check.errors?.[0], raw)}`);
  }
  const r = raw as unknown as Omit<Scenario, 'stations'> & { stations: unknown[] };
  let stations: SimStationSpec[];
  try {
    stations = expandStations(r.stations, 'scenario stations');
  } catch (err) {
    throw new ScenarioError((err as Error).message);
  }
  return { ...r, stations };
}

export function loadScenario(file: string): Scenario {
  return parseScenario(readFileSync(file, 'utf8'), /\.ya?ml$/i.test(file) ? 'yaml' : 'json');
}

export function selectIds(ids: readonly string[], selector: Selector | undefined): string[] {
  if (selector === undefined || selector === 'all') return [...ids];
  if (typeof selector === 'string') {
    if (selector.endsWith('*')) return ids.filter((id) => id.startsWith(selector.slice(0, -1)));
    return ids.filter((id) => id === selector);
  }
  if (Array.isArray(selector)) return ids.filter((id) => selector.includes(id));
  const { from, count } = selector as { from: number; count: number };
  return ids.slice(from, from + count);
}

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
  const waitVirtual = async (ms: number): Promise<void> => {
    const end = clock.now() + ms;
    while (clock.now() < end) {
      if (opts.signal?.aborted) throw new ScenarioError('aborted');
      progress();
      await sleepReal(poll);
    }
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
          while (clock.now() < due) {
            if (opts.signal?.aborted) throw new ScenarioError('aborted');
            progress();
            await sleepReal(Math.min(poll, Math.max(1, due - clock.now())));
          }
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
        if (opts.signal?.aborted) throw new ScenarioError('aborted');
        progress();
        await sleepReal(poll * 10);
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

/** The fault rules a scenario set, per station, so that `clearFaults: true` and the end of the run remove them. */
class ScenarioFaultSteps {
  readonly #set = new Map<string, string[]>();

  constructor(
    private readonly port: ScenarioFaults | undefined,
    private readonly timeScale: number,
  ) {}

  /** Undefined when every station took the rule, else why not. */
  async set(targets: readonly string[], rule: FaultRuleJson): Promise<string | undefined> {
    if (!this.port) return 'no gateway to set fault rules on (npm run sim: --gateway URL and TOKEN)';
    const scaled = typeof rule.durationS === 'number' ? { ...rule, durationS: rule.durationS / this.timeScale } : rule;
    const refused: string[] = [];
    for (const id of targets) {
      const r = await this.port.set(id, scaled).catch((err: unknown) => ({ ok: false as const, message: (err as Error).message }));
      if (r.ok) {
        if (rule.kind !== 'cut') this.#set.set(id, [...(this.#set.get(id) ?? []), r.id]);
      } else refused.push(`${id}: ${r.message}`);
    }
    return refused.length > 0 ? `${refused.length} of ${targets.length} refused the rule (${refused.slice(0, 3).join('; ')})` : undefined;
  }

  async clear(targets: readonly string[], all: boolean): Promise<string | undefined> {
    const port = this.port;
    if (!port) return this.#set.size > 0 || all ? 'no gateway to clear fault rules on' : undefined;
    for (const id of targets) {
      const mine = this.#set.get(id) ?? [];
      this.#set.delete(id);
      if (all) await port.clear(id);
      // A rule that expired or went with a disconnect is gone already: nothing to report.
      else for (const ruleId of mine) await port.remove(id, ruleId);
    }
    return undefined;
  }
}
