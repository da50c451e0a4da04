// A charger test case: a short declarative script in the scenario style (one key names the step), extended with
// expectations on the station's frames, the gateway's own calls and the test central system's answers.
// Parsed from YAML or JSON with errors that name the file, the step and the field.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { checkAction, type SimAction } from '../sim/spec.js';
import { applySettings, defaultSettings } from '../upstream/test-cs/index.js';
import { FaultRuleError, parseFaultRule } from '../relay/faults/index.js';
import { CHECKS } from './checks.js';
import { validate } from '../ocpp/validate.js';

/** embedded: needs the gateway to be the central system; faults: needs fault injection on the relay. */
export const REQUIREMENTS = ['embedded', 'faults'] as const;
export type Requirement = (typeof REQUIREMENTS)[number];

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
export type JsonObject = { readonly [k: string]: Json };
/** Variable name → where to read it: `payload.x`, `answer.x` (expect) or `result.x` (call); dots and array indexes. */
export type Captures = ReadonlyMap<string, string>;

interface StepBase {
  readonly label: string;
}

export type CaseStep =
  /** The gateway sends its own call to the station; `result` is a partial match on the answer. */
  | (StepBase & { readonly kind: 'call'; readonly action: string; readonly payload: JsonObject; readonly result?: Json; readonly error?: string; readonly capture: Captures; readonly timeout: number })
  /** The station sends `count` calls of `action` matching `payload` (and answered matching `answer`) within `within` s. */
  | (StepBase & {
      readonly kind: 'expect'; readonly action: string; readonly payload?: Json; readonly answer?: Json; readonly within: number; readonly count: number;
      /** Mean seconds between consecutive matches must lie in [min, max]. */
      readonly spacing?: readonly [number, number];
      /** Where the spacing's times come from: a payload path holding an ISO time (the station's clock); default arrival at the gateway. */
      readonly spacingFrom?: string;
      readonly checks: readonly string[]; readonly capture: Captures;
      /** Search from the last action rather than after the previous expectation's match. */
      readonly anyOrder: boolean;
    })
  /** No call of `action` ("*": any, less `except`) matching `payload` within `within` s. */
  | (StepBase & { readonly kind: 'expectNone'; readonly action: string; readonly except: readonly string[]; readonly payload?: Json; readonly within: number })
  /** Merges settings into the test central system for the rest of the case (restored afterwards). */
  | (StepBase & { readonly kind: 'testCs'; readonly settings: JsonObject })
  /** A hand on the hardware: asks the operator; a simulated station does `sim` itself, or nothing with `skipOnSim`. */
  | (StepBase & { readonly kind: 'ask'; readonly prompt: string; readonly sim?: SimAction; readonly skipOnSim: boolean; readonly timeout: number })
  | (StepBase & { readonly kind: 'sleep'; readonly seconds: number })
  /** A fault rule on the station (the body of POST /api/stations/:id/faults); durationS in station seconds. */
  | (StepBase & { readonly kind: 'fault'; readonly fault: JsonObject });

export interface TestCase {
  readonly name: string;
  readonly title: string;
  /** The behaviour the specification requires, with its section (e.g. "OCPP 1.6 §4.2 BootNotification"). */
  readonly spec: string;
  readonly profile: string;
  readonly requires: readonly Requirement[];
  readonly steps: readonly CaseStep[];
  /** Run after the steps whatever happened (best effort): put the station back as it was. */
  readonly cleanup: readonly CaseStep[];
  readonly file?: string;
}

export class CaseError extends Error {
  override name = 'CaseError';
}

const STEP_KINDS = ['call', 'expect', 'expectNone', 'testCs', 'ask', 'action', 'sleep', 'fault'] as const;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  constructor(readonly where: string) {}
  fail(message: string): never {
    throw new CaseError(`${this.where}: ${message}`);
  }
  only(o: Record<string, unknown>, keys: readonly string[]): void {
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(`unknown field "${k}" (known: ${keys.join(', ')})`);
  }
  string(o: Record<string, unknown>, key: string, required: true): string;
  string(o: Record<string, unknown>, key: string, required?: false): string | undefined;
  string(o: Record<string, unknown>, key: string, required = false): string | undefined {
    const v = o[key];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v === '') this.fail(`"${key}" must be a non-empty string`);
    return v;
  }
  seconds(o: Record<string, unknown>, key: string, fallback: number): number {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !(v >= 0) || v > 86_400) this.fail(`"${key}" must be seconds (a number 0..86400)`);
    return v;
  }
  json(o: Record<string, unknown>, key: string): Json | undefined {
    return o[key] as Json | undefined;
  }
  captures(o: Record<string, unknown>, prefixes: readonly string[]): Captures {
    const v = o.capture;
    if (v === undefined) return new Map();
    if (!isObject(v)) this.fail('"capture" must map variable names to paths');
    const out = new Map<string, string>();
    for (const [name, path] of Object.entries(v)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(`capture variable "${name}" must be an identifier`);
      if (typeof path !== 'string' || !prefixes.some((p) => path === p || path.startsWith(`${p}.`))) {
        this.fail(`capture.${name} must be a path starting with ${prefixes.join(' or ')}`);
      }
      out.set(name, path);
    }
    return out;
  }
}

function parseStep(raw: unknown, where: string): CaseStep {
  const r: Reader = new Reader(where);
  if (!isObject(raw)) r.fail('a step must be an object');
  const kinds = STEP_KINDS.filter((k) => k in raw);
  if (kinds.length !== 1) r.fail(`a step needs exactly one of ${STEP_KINDS.join(', ')}${kinds.length > 1 ? ` (found ${kinds.join(', ')})` : ''}`);
  const kind = kinds[0]!;
  const label = r.string(raw, 'label') ?? '';
  switch (kind) {
    case 'call': {
      r.only(raw, ['call', 'payload', 'result', 'error', 'capture', 'timeout', 'label']);
      const action = r.string(raw, 'call', true);
      const payload = raw.payload ?? {};
      if (!isObject(payload)) r.fail('"payload" must be an object');
      const error = r.string(raw, 'error');
      // Payloads without variables are checked now; the others when they are sent.
      if (!JSON.stringify(payload).includes('${')) {
        const violation = validate(action, 'req', payload);
        if (violation) r.fail(`"payload": ${violation.message}`);
      }
      return {
        kind, action, payload: payload as JsonObject, capture: r.captures(raw, ['result']), timeout: r.seconds(raw, 'timeout', 30),
        label: label || `${action}${raw.payload ? ` ${JSON.stringify(payload)}` : ''}`,
        ...(raw.result !== undefined ? { result: r.json(raw, 'result') as Json } : {}),
        ...(error !== undefined ? { error } : {}),
      };
    }
    case 'expect': {
      r.only(raw, ['expect', 'payload', 'answer', 'within', 'count', 'spacing', 'spacingFrom', 'checks', 'capture', 'anyOrder', 'label']);
      const spacingFrom = r.string(raw, 'spacingFrom');
      if (spacingFrom !== undefined && !spacingFrom.startsWith('payload.')) r.fail('"spacingFrom" must be a path starting with payload.');
      if (spacingFrom !== undefined && raw.spacing === undefined) r.fail('"spacingFrom" needs "spacing"');
      const action = r.string(raw, 'expect', true);
      const count = raw.count ?? 1;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000) r.fail('"count" must be an integer 1..1000');
      let spacing: [number, number] | undefined;
      if (raw.spacing !== undefined) {
        const s = raw.spacing;
        if (!Array.isArray(s) || s.length !== 2 || !s.every((x) => typeof x === 'number' && x >= 0) || (s[0] as number) > (s[1] as number)) r.fail('"spacing" must be [min, max] seconds');
        if (count < 2) r.fail('"spacing" needs "count" of at least 2');
        spacing = [s[0] as number, s[1] as number];
      }
      const checks = raw.checks ?? [];
      if (!Array.isArray(checks) || !checks.every((c) => typeof c === 'string')) r.fail('"checks" must be a list of check names');
      for (const c of checks as string[]) if (!CHECKS.has(c)) r.fail(`unknown check "${c}" (known: ${[...CHECKS.keys()].join(', ')})`);
      if (raw.anyOrder !== undefined && typeof raw.anyOrder !== 'boolean') r.fail('"anyOrder" must be true or false');
      const payload = r.json(raw, 'payload');
      const answer = r.json(raw, 'answer');
      const what = payload && isObject(payload) ? ` ${JSON.stringify(payload)}` : '';
      return {
        kind, action, within: r.seconds(raw, 'within', 10), count, checks: checks as string[], capture: r.captures(raw, ['payload', 'answer']),
        anyOrder: raw.anyOrder === true,
        label: label || `expect ${count > 1 ? `${count}× ` : ''}${action}${what}`,
        ...(payload !== undefined ? { payload } : {}),
        ...(answer !== undefined ? { answer } : {}),
        ...(spacing ? { spacing } : {}),
        ...(spacingFrom !== undefined ? { spacingFrom } : {}),
      };
    }
    case 'expectNone': {
      r.only(raw, ['expectNone', 'except', 'payload', 'within', 'label']);
      const action = r.string(raw, 'expectNone', true);
      const except = raw.except ?? [];
      if (!Array.isArray(except) || !except.every((c) => typeof c === 'string')) r.fail('"except" must be a list of actions');
      const payload = r.json(raw, 'payload');
      return {
        kind, action, except: except as string[], within: r.seconds(raw, 'within', 5),
        label: label || `no ${action === '*' ? 'call' : action}${(except as string[]).length ? ` but ${(except as string[]).join(', ')}` : ''}`,
        ...(payload !== undefined ? { payload } : {}),
      };
    }
    case 'testCs': {
      r.only(raw, ['testCs', 'label']);
      try {
        applySettings(defaultSettings(), raw.testCs, 'testCs');
      } catch (err) {
        r.fail((err as Error).message);
      }
      return { kind, settings: raw.testCs as JsonObject, label: label || `test central system: ${JSON.stringify(raw.testCs)}` };
    }
    case 'ask':
    case 'action': {
      r.only(raw, [kind, 'sim', 'prompt', 'timeout', 'skipOnSim', 'label']);
      if (raw.skipOnSim !== undefined && typeof raw.skipOnSim !== 'boolean') r.fail('"skipOnSim" must be true or false');
      let prompt: string;
      let sim: SimAction | undefined;
      if (kind === 'ask') {
        prompt = r.string(raw, 'ask', true);
        if (raw.sim !== undefined) {
          const c = checkAction(raw.sim);
          if (!c.ok) r.fail(`"sim": ${c.message}`);
          sim = c.action;
        }
      } else {
        // The scenario format's step: a simulator action, asked of a person when the station is real.
        const c = checkAction(raw.action);
        if (!c.ok) r.fail(`"action": ${c.message}`);
        sim = c.action;
        prompt = r.string(raw, 'prompt') ?? describeSimAction(sim);
      }
      if (sim && raw.skipOnSim === true) r.fail('"skipOnSim" is for steps without a simulator action');
      return { kind: 'ask', prompt, skipOnSim: raw.skipOnSim === true, timeout: r.seconds(raw, 'timeout', 120), label: label || prompt, ...(sim ? { sim } : {}) };
    }
    case 'sleep':
      r.only(raw, ['sleep', 'label']);
      return { kind, seconds: r.seconds(raw, 'sleep', 0), label: label || `wait ${String(raw.sleep)} s` };
    case 'fault': {
      r.only(raw, ['fault', 'label']);
      try {
        parseFaultRule(raw.fault);
      } catch (err) {
        if (err instanceof FaultRuleError) r.fail(`"fault": ${err.message}`);
        throw err;
      }
      const rule = raw.fault as JsonObject;
      return { kind, fault: rule, label: label || `fault: ${JSON.stringify(rule)}` };
    }
  }
}

/** Words for a person at the bench. */
export function describeSimAction(a: SimAction): string {
  const on = 'connectorId' in a && a.connectorId !== undefined ? ` on connector ${a.connectorId}` : ' on connector 1';
  switch (a.type) {
    case 'plugIn': return `Plug the vehicle cable in${on}`;
    case 'plugOut': return `Unplug the vehicle cable${on}`;
    case 'presentTag': return `Present the RFID tag${a.idTag ? ` ${a.idTag}` : ''}${on}`;
    case 'start': return `Plug in and present the tag${on} to start charging`;
    case 'stop': return `Stop the charging session locally${on} (tag or button)`;
    case 'fault': return `Cause the fault ${a.errorCode ?? 'OtherError'}${on}`;
    case 'clearFault': return `Clear the fault${on}`;
    case 'bmsAlert': return `Make the BMS raise ${a.alertType ?? 'an alert'}${on}`;
    case 'evsePause': return `Pause charging on the EVSE side${on}`;
    case 'evseResume': return `Resume charging on the EVSE side${on}`;
    case 'dropLink': return 'Cut the station\'s network link (unplug Ethernet / disable WiFi)';
    case 'reboot': return 'Power-cycle the station';
  }
}

/** Parses one case from YAML or JSON text; `file` names it in errors. */
export function parseCase(text: string, file: string): TestCase {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new CaseError(`${file}: not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const r: Reader = new Reader(file);
  if (!isObject(raw)) r.fail('a case must be an object with name, title, spec and steps');
  r.only(raw, ['name', 'title', 'spec', 'profile', 'requires', 'steps', 'cleanup', 'description']);
  const name = r.string(raw, 'name', true);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) r.fail('"name" must be lower-case letters, digits and dashes');
  const requires = raw.requires ?? [];
  if (!Array.isArray(requires) || !requires.every((x) => (REQUIREMENTS as readonly unknown[]).includes(x))) {
    r.fail(`"requires" must be a list of ${REQUIREMENTS.join(', ')}`);
  }
  const list = (key: 'steps' | 'cleanup'): CaseStep[] => {
    const v = raw[key] ?? [];
    if (!Array.isArray(v) || (key === 'steps' && v.length === 0)) r.fail(`"${key}" must be a${key === 'steps' ? ' non-empty' : ''} list of steps`);
    return v.map((s, i) => parseStep(s, `${file} ${key}[${i}]`));
  };
  const steps = list('steps');
  const cleanup = list('cleanup');
  const needs = new Set(requires as Requirement[]);
  // A case that changes the central system's answers or injects faults says so; the runner relies on it.
  if (steps.some((s) => s.kind === 'testCs') && !needs.has('embedded')) r.fail('a case with testCs steps must list "embedded" in requires');
  if (steps.some((s) => s.kind === 'fault') && !needs.has('faults')) r.fail('a case with fault steps must list "faults" in requires');
  return {
    name,
    title: r.string(raw, 'title', true),
    spec: r.string(raw, 'spec', true),
    profile: r.string(raw, 'profile') ?? 'Core',
    requires: [...needs],
    steps,
    cleanup,
    file,
  };
}

export function loadCase(file: string): TestCase {
  return parseCase(readFileSync(file, 'utf8'), file);
}
