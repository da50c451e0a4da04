// Filters an operator sets (and changes at runtime) on the live frame stream.
import type { Direction, Leg, LogEntry } from '../events/observations.js';
import type { MessageTypeName } from '../ocpp/frames.js';

/** As clients send it; every field optional, absent means "any". */
export interface FrameFilterRequest {
  readonly chargeBoxIds?: readonly string[];
  readonly direction?: Direction;
  readonly leg?: Leg;
  readonly actions?: readonly string[];
  readonly messageTypes?: readonly MessageTypeName[];
  readonly findingsOnly?: boolean;
}

export interface FrameFilter {
  readonly chargeBoxIds?: ReadonlySet<string>;
  readonly direction?: Direction;
  readonly leg?: Leg;
  readonly actions?: ReadonlySet<string>;
  readonly messageTypes?: ReadonlySet<MessageTypeName>;
  readonly findingsOnly: boolean;
}

const DIRECTIONS: readonly Direction[] = ['in', 'out'];
const LEGS: readonly Leg[] = ['station', 'upstream'];
const MESSAGE_TYPES: readonly MessageTypeName[] = ['CALL', 'CALLRESULT', 'CALLERROR'];

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s): s is string => typeof s === 'string') ? v : undefined;
}

export function parseFrameFilter(raw: unknown): { ok: true; filter: FrameFilter } | { ok: false; message: string } {
  if (raw === undefined || raw === null) return { ok: true, filter: { findingsOnly: false } };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, message: 'filter must be an object' };
  const r = raw as Record<string, unknown>;
  const known = new Set(['chargeBoxIds', 'direction', 'leg', 'actions', 'messageTypes', 'findingsOnly']);
  const unknown = Object.keys(r).find((k) => !known.has(k));
  if (unknown) return { ok: false, message: `unknown filter field "${unknown}"` };
  let filter: FrameFilter = { findingsOnly: false };
  if (r.chargeBoxIds !== undefined) {
    const ids = stringList(r.chargeBoxIds);
    if (!ids) return { ok: false, message: 'chargeBoxIds must be an array of strings' };
    filter = { ...filter, chargeBoxIds: new Set(ids) };
  }
  if (r.direction !== undefined) {
    if (!DIRECTIONS.includes(r.direction as Direction)) return { ok: false, message: 'direction must be "in" or "out"' };
    filter = { ...filter, direction: r.direction as Direction };
  }
  if (r.leg !== undefined) {
    if (!LEGS.includes(r.leg as Leg)) return { ok: false, message: 'leg must be "station" or "upstream"' };
    filter = { ...filter, leg: r.leg as Leg };
  }
  if (r.actions !== undefined) {
    const actions = stringList(r.actions);
    if (!actions) return { ok: false, message: 'actions must be an array of strings' };
    filter = { ...filter, actions: new Set(actions) };
  }
  if (r.messageTypes !== undefined) {
    const types = stringList(r.messageTypes);
    if (!types || !types.every((t) => MESSAGE_TYPES.includes(t as MessageTypeName))) {
      return { ok: false, message: 'messageTypes must list CALL, CALLRESULT or CALLERROR' };
    }
    filter = { ...filter, messageTypes: new Set(types as MessageTypeName[]) };
  }
  if (r.findingsOnly !== undefined) {
    if (typeof r.findingsOnly !== 'boolean') return { ok: false, message: 'findingsOnly must be a boolean' };
    filter = { ...filter, findingsOnly: r.findingsOnly };
  }
  return { ok: true, filter };
}

export function matchFrame(filter: FrameFilter, entry: LogEntry): boolean {
  if (filter.chargeBoxIds && !filter.chargeBoxIds.has(entry.chargeBoxId)) return false;
  if (filter.direction && entry.direction !== filter.direction) return false;
  if (filter.leg && entry.leg !== filter.leg) return false;
  // Answers carry no action of their own in every log; an action filter then lets only CALLs with it through.
  if (filter.actions && (entry.action === undefined || !filter.actions.has(entry.action))) return false;
  if (filter.messageTypes && (entry.messageType === undefined || !filter.messageTypes.has(entry.messageType))) return false;
  if (filter.findingsOnly && entry.findings.length === 0 && entry.problem === undefined) return false;
  return true;
}

/** The filter as plain JSON, for acks. */
export function describeFilter(filter: FrameFilter): FrameFilterRequest {
  return {
    ...(filter.chargeBoxIds ? { chargeBoxIds: [...filter.chargeBoxIds] } : {}),
    ...(filter.direction ? { direction: filter.direction } : {}),
    ...(filter.leg ? { leg: filter.leg } : {}),
    ...(filter.actions ? { actions: [...filter.actions] } : {}),
    ...(filter.messageTypes ? { messageTypes: [...filter.messageTypes] } : {}),
    findingsOnly: filter.findingsOnly,
  };
}
