// What a well-formed OCPP 1.6J frame is, as the recording upstream and the hostile stations judge it.
// Nothing here recurses: the frames it looks at may nest as deep as the frame limit allows. It shares no code with
// the gateway on purpose: an oracle that reused the gateway's own checks would miss the gateway's own mistakes.

/** The ten CALLERROR codes of OCPP 1.6J (spelled as the 1.6 specification spells them). */
export const OCPP16_ERROR_CODES: ReadonlySet<string> = new Set([
  'NotImplemented',
  'NotSupported',
  'InternalError',
  'ProtocolError',
  'SecurityError',
  'FormationViolation',
  'PropertyConstraintViolation',
  'OccurenceConstraintViolation',
  'TypeConstraintViolation',
  'GenericError',
]);

/**
 * The deepest nesting a frame may reach SteVe with: its Jackson (2.15+) refuses documents nested deeper than 1000
 * levels, and a frame it cannot read closes the station's socket with 1011. Real 1.6 frames nest about 6 deep.
 */
export const MAX_UPSTREAM_DEPTH = 1000;

/** Deepest nesting of arrays and objects in JSON text, counted by scanning (strings skipped), without recursion. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

export type ParsedFrame =
  | { readonly type: 2; readonly id: string; readonly action: string; readonly payload: Record<string, unknown> }
  | { readonly type: 3; readonly id: string; readonly payload: Record<string, unknown> }
  | { readonly type: 4; readonly id: string; readonly code: string; readonly description: string };

/** What the recording upstream needs of a judged frame to answer it or check its answer. */
export type FrameHead = { readonly type: 2; readonly id: string; readonly action: string } | { readonly type: 3 | 4; readonly id: string };

export type FrameVerdict = { readonly ok: true; readonly frame: ParsedFrame } | { readonly ok: false; readonly problem: string };

/** Judges a frame as SteVe would before it answers or closes with 1011. `maxIdLength` 36 is OCPP-J's limit. */
export function judgeFrame(text: string, maxIdLength = 36): FrameVerdict {
  const bad = (problem: string): FrameVerdict => ({ ok: false, problem });
  const depth = nestingDepth(text);
  if (depth > MAX_UPSTREAM_DEPTH) return bad(`nested ${depth} deep (SteVe reads at most ${MAX_UPSTREAM_DEPTH})`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad('not JSON');
  }
  if (!Array.isArray(value)) return bad('not an array');
  const [type, id] = value as unknown[];
  if (type !== 2 && type !== 3 && type !== 4) return bad('message type is not 2, 3 or 4');
  if (typeof id !== 'string' || id.length === 0 || id.length > maxIdLength) return bad(`message id is not a string of 1..${maxIdLength} characters`);
  if (type === 2) {
    const [, , action, payload] = value as unknown[];
    if (value.length !== 4) return bad('CALL does not have 4 elements');
    if (typeof action !== 'string' || action.length === 0) return bad('CALL action is not a non-empty string');
    if (!isObject(payload)) return bad('CALL payload is not an object');
    return { ok: true, frame: { type, id, action, payload: payload as Record<string, unknown> } };
  }
  if (type === 3) {
    const [, , payload] = value as unknown[];
    if (value.length !== 3) return bad('CALLRESULT does not have 3 elements');
    if (!isObject(payload)) return bad('CALLRESULT payload is not an object');
    return { ok: true, frame: { type, id, payload: payload as Record<string, unknown> } };
  }
  const [, , code, description, details] = value as unknown[];
  if (value.length !== 5) return bad('CALLERROR does not have 5 elements');
  if (typeof code !== 'string' || !OCPP16_ERROR_CODES.has(code)) return bad(`CALLERROR code ${typeof code === 'string' ? JSON.stringify(code.slice(0, 40)) : typeof code} is not an OCPP 1.6 code`);
  if (typeof description !== 'string') return bad('CALLERROR description is not a string');
  if (!isObject(details)) return bad('CALLERROR details is not an object');
  return { ok: true, frame: { type, id, code, description } };
}

/** A frame cut to a printable sample for reports. */
export function sample(data: string | Buffer, max = 160): string {
  const text = typeof data === 'string' ? data : `<${data.length} bytes: ${data.subarray(0, 24).toString('hex')}…>`;
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}
