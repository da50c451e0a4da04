// Scenarios: timed steps over one or many simulated stations, from a JSON or YAML file checked against the
// published schema (scenarios/scenario.schema.json). What a scenario is and how it is read; scenario-run.ts runs it.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { actionSchema, schemaErrorText, stationTemplateSchema, type SimAction, type SimStationSpec } from './spec.js';
import { expandStations } from './config.js';
import { faultRuleSchema, type FaultRuleJson } from './scenario-faults.js';

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

/** The ids a step's `stations` selects, in the scenario's order. */
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
