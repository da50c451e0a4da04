// OCPP-J framing: [2,id,action,payload] | [3,id,payload] | [4,id,code,description,details].
// Pure: no sockets. parseFrame never throws, never recurses over the frame's structure (nesting is checked first)
// and never puts more than a few dozen characters of wire text in a message; it says what is wrong and, when it
// can, which message id to answer.
import { clip, describeJson, nestingExceeds } from './wire-text.js';

export const CALL = 2;
export const CALLRESULT = 3;
export const CALLERROR = 4;

export type MessageTypeName = 'CALL' | 'CALLRESULT' | 'CALLERROR';

export interface Call {
  readonly type: typeof CALL;
  readonly id: string;
  readonly action: string;
  readonly payload: unknown;
}
export interface CallResult {
  readonly type: typeof CALLRESULT;
  readonly id: string;
  readonly payload: unknown;
}
export interface CallError {
  readonly type: typeof CALLERROR;
  readonly id: string;
  readonly code: string;
  readonly description: string;
  readonly details: unknown;
}
export type Frame = Call | CallResult | CallError;

export type FrameProblemKind = 'not-json' | 'too-deep' | 'not-array' | 'bad-message-type' | 'bad-message-id' | 'bad-shape' | 'bad-action';

export interface FrameProblem {
  readonly kind: FrameProblemKind;
  readonly message: string;
  /**
   * The id to answer with, when there is one: a valid id; for a CALL also an invalid one that can be echoed (a
   * string of up to MAX_ECHOED_ID_LENGTH characters, or a number's JSON text), so the station can match the CALLERROR.
   */
  readonly messageId?: string;
  /** Set when the array said it was a CALL. */
  readonly isCall: boolean;
}

export type ParseResult = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly problem: FrameProblem };

/** SteVe's limit for message ids (OCPP-J: max 36 characters). */
export const MAX_MESSAGE_ID_LENGTH = 36;
/** A CALL's invalid string id up to this long is echoed in the CALLERROR; a longer one cannot be answered. */
export const MAX_ECHOED_ID_LENGTH = 128;
/**
 * Deepest nesting of arrays and objects a frame may have (the frame's own array is level 1). Real OCPP 1.6 frames
 * nest under 10 deep; deeper ones are refused before anything recursive (JSON.stringify, schema validation, log
 * serialisation) sees them, and never reach the central system.
 */
export const MAX_FRAME_DEPTH = 64;
/** Longest action name a CALL may have (OCPP's longest are about 35): a longer one is answered NotImplemented. */
export const MAX_ACTION_LENGTH = 64;

export function messageTypeName(type: Frame['type']): MessageTypeName {
  return type === CALL ? 'CALL' : type === CALLRESULT ? 'CALLRESULT' : 'CALLERROR';
}

function problem(kind: FrameProblemKind, message: string, isCall: boolean, messageId?: string): ParseResult {
  return { ok: false, problem: messageId === undefined ? { kind, message, isCall } : { kind, message, isCall, messageId } };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isValidId = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= MAX_MESSAGE_ID_LENGTH;

/** An invalid CALL id that can still be sent back so the station can match the answer, or undefined. */
function echoableId(id: unknown): string | undefined {
  if (typeof id === 'string') return id.length <= MAX_ECHOED_ID_LENGTH ? id : undefined;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return undefined;
}

/** The id to answer a problem frame with: a valid one always; an echoable invalid one only for a CALL. */
function answerIdOf(id: unknown, isCall: boolean): string | undefined {
  return isValidId(id) ? id : isCall ? echoableId(id) : undefined;
}

/** Characters at the start of a frame that hold its type and any echoable id (an escaped character takes 6). */
export const HEADER_CHARS = MAX_ECHOED_ID_LENGTH * 6 + 32;

// Message type and (when simple) id of a frame too deep to parse, read off its first characters.
const HEADER = /^\s*\[\s*([234])\s*,(?:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*,)?/;

function readHeader(text: string): { readonly type: number; readonly id: unknown } | undefined {
  const m = HEADER.exec(text.slice(0, HEADER_CHARS));
  if (!m) return undefined;
  let id: unknown;
  try {
    id = m[2] === undefined ? undefined : (JSON.parse(m[2]) as unknown);
  } catch {
    id = undefined;
  }
  return { type: Number(m[1]), id };
}

function describeId(id: unknown): string {
  return typeof id === 'string' ? `a string of ${id.length} characters` : id === undefined ? 'nothing' : describeJson(id);
}

/** Above this length, text that does not even start like an array is refused without being scanned or parsed. */
const PRECISE_PROBLEM_CHARS = 4096;

/** True when the first character after JSON whitespace is "[". */
function startsLikeArray(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c === 0x5b;
  }
  return false;
}

/** The problem of a frame nested deeper than MAX_FRAME_DEPTH, from its first HEADER_CHARS characters (or more). */
export function tooDeep(head: string): FrameProblem {
  const h = readHeader(head);
  const isCall = h?.type === CALL;
  const messageId = h ? answerIdOf(h.id, isCall) : undefined;
  const message = `nested deeper than ${MAX_FRAME_DEPTH} levels of arrays and objects`;
  return messageId === undefined ? { kind: 'too-deep', message, isCall } : { kind: 'too-deep', message, isCall, messageId };
}

export function parseFrame(text: string): ParseResult {
  // Junk (another protocol, random bytes) is refused at its first character, however long it is.
  if (text.length > PRECISE_PROBLEM_CHARS && !startsLikeArray(text)) return problem('not-array', 'not an OCPP-J array: does not start with "["', false);
  // Before JSON.parse: parsing 8 MiB of "[" builds millions of arrays, and everything after it would recurse.
  if (nestingExceeds(text, MAX_FRAME_DEPTH)) return { ok: false, problem: tooDeep(text) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return problem('not-json', `not JSON: ${clip((err as Error).message, 120)}`, false);
  }
  if (!Array.isArray(value)) return problem('not-array', 'not an OCPP-J array', false);
  const [type, id] = value as unknown[];
  if (type !== CALL && type !== CALLRESULT && type !== CALLERROR) {
    return problem('bad-message-type', `unknown message type ${describeJson(type)}`, false);
  }
  const isCall = type === CALL;
  if (!isValidId(id)) {
    return problem('bad-message-id', `message id must be a string of 1..${MAX_MESSAGE_ID_LENGTH} characters, got ${describeId(id)}`, isCall, answerIdOf(id, isCall));
  }
  if (type === CALL) {
    const [, , action, payload] = value as unknown[];
    if (value.length !== 4 || typeof action !== 'string' || action.length === 0) {
      return problem('bad-shape', 'a CALL is [2, id, action, payload]', true, id);
    }
    if (action.length > MAX_ACTION_LENGTH) return problem('bad-action', `action name longer than ${MAX_ACTION_LENGTH} characters`, true, id);
    if (!isObject(payload)) return problem('bad-shape', 'CALL payload must be a JSON object', true, id);
    return { ok: true, frame: { type, id, action, payload } };
  }
  if (type === CALLRESULT) {
    const [, , payload] = value as unknown[];
    if (value.length !== 3 || !isObject(payload)) return problem('bad-shape', 'a CALLRESULT is [3, id, {payload}]', false, id);
    return { ok: true, frame: { type, id, payload } };
  }
  const [, , code, description, details] = value as unknown[];
  if (value.length !== 5 || typeof code !== 'string' || typeof description !== 'string' || !isObject(details)) {
    return problem('bad-shape', 'a CALLERROR is [4, id, code, description, {details}]', false, id);
  }
  return { ok: true, frame: { type, id, code, description, details } };
}

export function encodeCall(id: string, action: string, payload: unknown): string {
  return JSON.stringify([CALL, id, action, payload]);
}
export function encodeCallResult(id: string, payload: unknown): string {
  return JSON.stringify([CALLRESULT, id, payload]);
}
export function encodeCallError(id: string, code: string, description: string, details: Record<string, unknown> = {}): string {
  return JSON.stringify([CALLERROR, id, code, description, details]);
}
