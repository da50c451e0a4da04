// Fault rules: what an operator (REST, Socket.IO) or a charger test case asks the relay to do to one station's
// frames, and the check that turns untrusted JSON into a rule or says which field is wrong.
import type { MessageTypeName } from '../../ocpp/frames.js';

/** toUpstream: frames from the station; toStation: frames from the upstream (SteVe or the embedded central system). */
export type FaultDirection = 'toUpstream' | 'toStation' | 'both';
export const FAULT_DIRECTIONS: readonly FaultDirection[] = ['toUpstream', 'toStation', 'both'];
const MESSAGE_TYPES: readonly MessageTypeName[] = ['CALL', 'CALLRESULT', 'CALLERROR'];

/** Which frames a rule acts on, and how often (a seeded draw per matching frame). */
export interface FrameFilter {
  readonly direction: FaultDirection;
  /** Actions (answers match by the action of their call); absent: all. */
  readonly actions?: readonly string[];
  readonly messageTypes?: readonly MessageTypeName[];
  /** Probability that a matching frame is acted on, 0..1. */
  readonly rate: number;
  /** Seed of the rule's own random sequence: the same seed on the same frames acts on the same frames. */
  readonly seed: number;
}

export type DelaySpec = { readonly ms: number } | { readonly min: number; readonly max: number } | { readonly mean: number; readonly sd: number };

export const ID_TAG_STATUSES = ['Accepted', 'Invalid', 'Blocked', 'Expired', 'ConcurrentTx'] as const;
export const BOOT_STATUSES = ['Accepted', 'Pending', 'Rejected'] as const;
export const CALL_ERROR_CODES = [
  'NotImplemented', 'NotSupported', 'InternalError', 'ProtocolError', 'SecurityError', 'FormationViolation',
  'PropertyConstraintViolation', 'OccurenceConstraintViolation', 'TypeConstraintViolation', 'GenericError',
] as const;

/** What the station gets in place of (or instead of) the upstream's answer. */
export type AnswerSpec =
  | { readonly result: Readonly<Record<string, unknown>> }
  | { readonly bootStatus: (typeof BOOT_STATUSES)[number]; readonly interval: number }
  | { readonly idTagStatus: (typeof ID_TAG_STATUSES)[number] }
  | { readonly callError: { readonly code: (typeof CALL_ERROR_CODES)[number]; readonly description: string } }
  | { readonly none: true };

export type FaultSpec =
  | ({ readonly kind: 'drop' } & FrameFilter)
  | ({ readonly kind: 'delay'; readonly delay: DelaySpec } & FrameFilter)
  | ({ readonly kind: 'duplicate'; readonly copies: number } & FrameFilter)
  | ({ readonly kind: 'reorder'; readonly window: number; readonly maxHoldMs: number } & FrameFilter)
  | ({ readonly kind: 'corrupt'; readonly mode: 'garble' | 'truncate' } & FrameFilter)
  /** Frames held while the rule lasts, released in order when it ends. */
  | ({ readonly kind: 'stall' } & FrameFilter)
  /** silent: the station stays connected, nothing crosses to or from the upstream; close: the station is closed with 1013 and again on every reconnect. */
  | { readonly kind: 'upstreamDown'; readonly mode: 'silent' | 'close' }
  /** instead: the upstream never sees the call; replace: it does, and its answer is swapped. */
  | { readonly kind: 'answer'; readonly actions: readonly string[]; readonly mode: 'instead' | 'replace'; readonly answer: AnswerSpec; readonly rate: number; readonly seed: number }
  /** One-shot: the station link is cut now (abrupt: no close frame; otherwise with `code`). */
  | { readonly kind: 'cut'; readonly abrupt: boolean; readonly code: number; readonly reason: string };

export type FaultKind = FaultSpec['kind'];
export const FAULT_KINDS: readonly FaultKind[] = ['drop', 'delay', 'duplicate', 'reorder', 'corrupt', 'stall', 'upstreamDown', 'answer', 'cut'];

/** A rule as set: the spec plus who set it, when, until when, and what it has done so far. */
export interface FaultRuleView {
  readonly id: string;
  readonly chargeBoxId: string;
  readonly spec: FaultSpec;
  /** JWT subject of whoever set it ("charger-test:<run>" for a test case). */
  readonly setBy: string;
  readonly setAt: string;
  readonly expiresAt?: string;
  /** Survives the station's disconnects (until it expires or is deleted). */
  readonly persistent: boolean;
  /** Frames the rule matched and the ones it acted on. */
  readonly matched: number;
  readonly acted: number;
}

/** Input refused: `field` names the part of the rule that is wrong. */
export class FaultRuleError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'FaultRuleError';
  }
}

export interface ParsedRule {
  readonly spec: FaultSpec;
  /** Milliseconds from now; undefined: until deleted (or the station disconnects, unless persistent). */
  readonly durationMs?: number;
  readonly persistent: boolean;
}

const MAX_DURATION_MS = 7 * 24 * 3600 * 1000;
const MAX_DELAY_MS = 10 * 60 * 1000;

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function num(o: Obj, field: string, min: number, max: number, fallback?: number, integer = false): number {
  const v = o[field];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new FaultRuleError(field, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}${v === undefined ? ' (missing)' : ''}`);
  }
  return v;
}

function oneOf<T extends string>(o: Obj, field: string, values: readonly T[], fallback?: T): T {
  const v = o[field];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw new FaultRuleError(field, `must be one of ${values.join(', ')}`);
  return v as T;
}

function strings(o: Obj, field: string, required: boolean): readonly string[] | undefined {
  const v = o[field];
  if (v === undefined && !required) return undefined;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x !== '' && x.length <= 64)) {
    throw new FaultRuleError(field, 'must be a non-empty list of names');
  }
  return v as string[];
}

function filterOf(o: Obj, directionRequired = false): FrameFilter {
  const direction = directionRequired ? oneOf(o, 'direction', FAULT_DIRECTIONS) : oneOf(o, 'direction', FAULT_DIRECTIONS, 'both');
  const actions = strings(o, 'actions', false);
  const messageTypes = strings(o, 'messageTypes', false);
  if (messageTypes && !messageTypes.every((t) => (MESSAGE_TYPES as readonly string[]).includes(t))) {
    throw new FaultRuleError('messageTypes', `must list only ${MESSAGE_TYPES.join(', ')}`);
  }
  return {
    direction,
    ...(actions ? { actions } : {}),
    ...(messageTypes ? { messageTypes: messageTypes as MessageTypeName[] } : {}),
    rate: num(o, 'rate', 0, 1, 1),
    seed: seedOf(o),
  };
}

function seedOf(o: Obj): number {
  // Without a seed the rule gets one, listed with it, so the run can be repeated.
  return num(o, 'seed', 0, 0xffffffff, Math.floor(Math.random() * 0xffffffff), true);
}

function delayOf(v: unknown): DelaySpec {
  if (typeof v === 'number') return { ms: num({ delay: v }, 'delay', 0, MAX_DELAY_MS) };
  if (!isObj(v)) throw new FaultRuleError('delay', 'must be milliseconds, { ms }, { min, max } or { mean, sd }');
  if (v.ms !== undefined) return { ms: num(v, 'ms', 0, MAX_DELAY_MS) };
  if (v.min !== undefined || v.max !== undefined) {
    const min = num(v, 'min', 0, MAX_DELAY_MS);
    const max = num(v, 'max', 0, MAX_DELAY_MS);
    if (max < min) throw new FaultRuleError('delay.max', 'must not be below delay.min');
    return { min, max };
  }
  if (v.mean !== undefined) return { mean: num(v, 'mean', 0, MAX_DELAY_MS), sd: num(v, 'sd', 0, MAX_DELAY_MS) };
  throw new FaultRuleError('delay', 'must be milliseconds, { ms }, { min, max } or { mean, sd }');
}

function answerOf(v: unknown): AnswerSpec {
  if (!isObj(v)) throw new FaultRuleError('answer', 'must be { result } | { bootStatus, interval } | { idTagStatus } | { callError: { code } } | { none: true }');
  if (v.none === true) return { none: true };
  if (v.result !== undefined) {
    if (!isObj(v.result)) throw new FaultRuleError('answer.result', 'must be an object (the CALLRESULT payload)');
    return { result: v.result };
  }
  if (v.bootStatus !== undefined) return { bootStatus: oneOf(v, 'bootStatus', BOOT_STATUSES), interval: num(v, 'interval', 0, 86_400, 60, true) };
  if (v.idTagStatus !== undefined) return { idTagStatus: oneOf(v, 'idTagStatus', ID_TAG_STATUSES) };
  if (v.callError !== undefined) {
    const e = isObj(v.callError) ? v.callError : {};
    const description = typeof e.description === 'string' ? e.description.slice(0, 200) : 'injected by a fault rule';
    return { callError: { code: oneOf(e, 'code', CALL_ERROR_CODES), description } };
  }
  throw new FaultRuleError('answer', 'must be { result } | { bootStatus, interval } | { idTagStatus } | { callError: { code } } | { none: true }');
}

const COMMON = ['kind', 'durationS', 'until', 'persistent', 'direction', 'actions', 'messageTypes', 'rate', 'seed'];
const EXTRA: Readonly<Record<FaultKind, readonly string[]>> = {
  drop: [], delay: ['delay'], duplicate: ['copies'], reorder: ['window', 'maxHoldMs'], corrupt: ['mode'], stall: [],
  upstreamDown: ['mode'], answer: ['mode', 'answer'], cut: ['abrupt', 'code', 'reason'],
};

/** Turns untrusted JSON into a rule; throws FaultRuleError naming the field. `now` in ms since the epoch. */
export function parseFaultRule(raw: unknown, now: number = Date.now()): ParsedRule {
  if (!isObj(raw)) throw new FaultRuleError('rule', 'must be an object with a "kind"');
  const kind = oneOf(raw, 'kind', FAULT_KINDS);
  const unknown = Object.keys(raw).find((k) => !COMMON.includes(k) && !EXTRA[kind].includes(k));
  if (unknown !== undefined) throw new FaultRuleError(unknown, `is not a field of a ${kind} rule`);
  let durationMs: number | undefined;
  if (raw.durationS !== undefined && raw.until !== undefined) throw new FaultRuleError('until', 'give durationS or until, not both');
  if (raw.durationS !== undefined) durationMs = num(raw, 'durationS', 0.001, MAX_DURATION_MS / 1000) * 1000;
  if (raw.until !== undefined) {
    const t = typeof raw.until === 'string' ? Date.parse(raw.until) : Number.NaN;
    if (Number.isNaN(t) || t <= now || t - now > MAX_DURATION_MS) throw new FaultRuleError('until', 'must be an ISO time in the next 7 days');
    durationMs = t - now;
  }
  if (raw.persistent !== undefined && typeof raw.persistent !== 'boolean') throw new FaultRuleError('persistent', 'must be true or false');
  const persistent = raw.persistent === true;
  const spec = specOf(kind, raw);
  if (spec.kind === 'stall' && durationMs === undefined) throw new FaultRuleError('durationS', 'a stall needs durationS or until: its frames are released when it ends');
  if (spec.kind === 'upstreamDown' && durationMs === undefined) throw new FaultRuleError('durationS', 'upstreamDown needs durationS or until');
  return { spec, persistent: persistent || (spec.kind === 'upstreamDown' && spec.mode === 'close'), ...(durationMs !== undefined ? { durationMs } : {}) };
}

function specOf(kind: FaultKind, raw: Obj): FaultSpec {
  switch (kind) {
    case 'drop':
      return { kind, ...filterOf(raw) };
    case 'delay':
      return { kind, delay: delayOf(raw.delay), ...filterOf(raw) };
    case 'duplicate':
      return { kind, copies: num(raw, 'copies', 1, 10, 1, true), ...filterOf(raw) };
    case 'reorder':
      return { kind, window: num(raw, 'window', 2, 100, 3, true), maxHoldMs: num(raw, 'maxHoldMs', 1, MAX_DELAY_MS, 2000), ...filterOf(raw) };
    case 'corrupt':
      return { kind, mode: oneOf(raw, 'mode', ['garble', 'truncate'] as const, 'garble'), ...filterOf(raw) };
    case 'stall':
      return { kind, ...filterOf(raw, true) };
    case 'upstreamDown':
      return { kind, mode: oneOf(raw, 'mode', ['silent', 'close'] as const, 'silent') };
    case 'answer': {
      const mode = oneOf(raw, 'mode', ['instead', 'replace'] as const, 'instead');
      const answer = answerOf(raw.answer);
      if (mode === 'replace' && 'none' in answer) throw new FaultRuleError('answer', 'none needs mode "instead" (the upstream would still answer)');
      return { kind, actions: strings(raw, 'actions', true) ?? [], mode, answer, rate: num(raw, 'rate', 0, 1, 1), seed: seedOf(raw) };
    }
    case 'cut': {
      if (raw.abrupt !== undefined && typeof raw.abrupt !== 'boolean') throw new FaultRuleError('abrupt', 'must be true or false');
      const abrupt = raw.abrupt === true;
      const code = num(raw, 'code', 1000, 4999, 1001, true);
      if (code >= 1004 && code <= 1006) throw new FaultRuleError('code', '1004-1006 cannot be sent in a close frame');
      if (raw.reason !== undefined && typeof raw.reason !== 'string') throw new FaultRuleError('reason', 'must be text');
      const reason = typeof raw.reason === 'string' ? raw.reason : 'cut by fault injection';
      return { kind, abrupt, code, reason };
    }
  }
}
