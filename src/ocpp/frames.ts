// OCPP-J framing: [2,id,action,payload] | [3,id,payload] | [4,id,code,description,details].
// Pure: no sockets. parseFrame never throws; it says what is wrong and, when it can, which message id.

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

export type FrameProblemKind = 'not-json' | 'not-array' | 'bad-message-type' | 'bad-message-id' | 'bad-shape';

export interface FrameProblem {
  readonly kind: FrameProblemKind;
  readonly message: string;
  /** Set when the id could be read, so a CALL can still be answered with a CALLERROR. */
  readonly messageId?: string;
  /** Set when the array said it was a CALL. */
  readonly isCall: boolean;
}

export type ParseResult = { readonly ok: true; readonly frame: Frame } | { readonly ok: false; readonly problem: FrameProblem };

/** SteVe's limit for message ids (OCPP-J: max 36 characters). */
export const MAX_MESSAGE_ID_LENGTH = 36;

export function messageTypeName(type: Frame['type']): MessageTypeName {
  return type === CALL ? 'CALL' : type === CALLRESULT ? 'CALLRESULT' : 'CALLERROR';
}

function problem(kind: FrameProblemKind, message: string, isCall: boolean, messageId?: string): ParseResult {
  return { ok: false, problem: messageId === undefined ? { kind, message, isCall } : { kind, message, isCall, messageId } };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseFrame(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return problem('not-json', `not JSON: ${(err as Error).message}`, false);
  }
  if (!Array.isArray(value)) return problem('not-array', 'not an OCPP-J array', false);
  const [type, id] = value as unknown[];
  if (type !== CALL && type !== CALLRESULT && type !== CALLERROR) {
    return problem('bad-message-type', `unknown message type ${JSON.stringify(type)}`, false);
  }
  const isCall = type === CALL;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_MESSAGE_ID_LENGTH) {
    return problem('bad-message-id', `message id must be a string of 1..${MAX_MESSAGE_ID_LENGTH} characters`, isCall);
  }
  if (type === CALL) {
    const [, , action, payload] = value as unknown[];
    if (value.length !== 4 || typeof action !== 'string' || action.length === 0) {
      return problem('bad-shape', 'a CALL is [2, id, action, payload]', true, id);
    }
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
