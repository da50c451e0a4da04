// Schema validation as a value: validate(action, 'req'|'conf', payload) → null or a Finding-ready violation.
// Kept off the relay path: callers run it on a copy after the frame is forwarded.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { isDateTime } from './date-time.js';
import { ocpp16Schemas } from './schemas.js';
import type { CallErrorCode } from './errors.js';
import { OCPP16_ACTIONS, type Ocpp16Action } from './generated/ocpp16.js';

export type SchemaKind = 'req' | 'conf';

/**
 * Frames longer than this are not checked against the schema by observers: validating costs about as much as
 * parsing, and one station's megabytes must not hold up every other station's frames. Real OCPP 1.6 frames are
 * far smaller (a full SendLocalList is a few hundred KiB); the skip is recorded as a finding.
 */
export const MAX_VALIDATED_CHARS = 512 * 1024;

export interface SchemaViolation {
  readonly action: string;
  readonly kind: SchemaKind;
  /** The JSON-schema keyword that failed, e.g. "required", "maxLength", "enum". */
  readonly rule: string;
  /** JSON pointer of the offending field ("" for the payload itself). */
  readonly field: string;
  readonly message: string;
  /** The CALLERROR code OCPP-J would use for this violation. */
  readonly code: CallErrorCode;
}

const keywordToCode: Record<string, CallErrorCode> = {
  required: 'OccurenceConstraintViolation',
  type: 'TypeConstraintViolation',
  enum: 'PropertyConstraintViolation',
  maxLength: 'PropertyConstraintViolation',
  minimum: 'PropertyConstraintViolation',
  maximum: 'PropertyConstraintViolation',
  format: 'PropertyConstraintViolation',
  additionalProperties: 'FormationViolation',
};

// ajv-formats is CJS with a default export; under NodeNext the callable sits on .default.
type AddFormats = (ajv: Ajv) => Ajv;
const formatsModule = addFormatsModule as unknown as AddFormats & { default?: AddFormats };
const addFormats: AddFormats = formatsModule.default ?? formatsModule;

const ajv = new Ajv({ allErrors: false, strict: false });
addFormats(ajv);
// Same verdicts as ajv-formats' date-time, without its per-call split and match arrays (date-time.ts).
ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
/** Validators by action, one map per kind: no key string built per frame. */
const compiled: Record<SchemaKind, Map<string, ValidateFunction>> = { req: new Map(), conf: new Map() };
for (const schema of ocpp16Schemas()) {
  // The schemas' "urn:X.req" ids trip ajv's URI resolver; they are keys here, not refs.
  const { $schema: _s, $id: _id, ...body } = schema;
  const m = /^urn:(.+)\.(req|conf)$/.exec(schema.$id);
  if (m) compiled[m[2] as SchemaKind].set(m[1] as string, ajv.compile(body));
}

const ACTIONS: ReadonlySet<string> = new Set(OCPP16_ACTIONS);

export function isOcpp16Action(action: string): action is Ocpp16Action {
  return ACTIONS.has(action);
}

/** null when valid; a violation otherwise. An unknown action is itself a violation (NotImplemented). */
export function validate(action: string, kind: SchemaKind, payload: unknown): SchemaViolation | null {
  const fn = compiled[kind].get(action);
  if (!fn) {
    return { action, kind, rule: 'action', field: '', message: `unknown OCPP 1.6 action "${action}"`, code: 'NotImplemented' };
  }
  if (fn(payload)) return null;
  const err = (fn.errors ?? [])[0] as ErrorObject | undefined;
  const keyword = err?.keyword ?? 'schema';
  let field = err?.instancePath ?? '';
  if (keyword === 'required' && err) field = `${field}/${String((err.params as { missingProperty?: string }).missingProperty)}`;
  if (keyword === 'additionalProperties' && err) field = `${field}/${String((err.params as { additionalProperty?: string }).additionalProperty)}`;
  return {
    action,
    kind,
    rule: keyword,
    field,
    message: `${action}.${kind}${field ? ` ${field}` : ''}: ${err?.message ?? 'invalid'}`,
    code: keywordToCode[keyword] ?? 'FormationViolation',
  };
}
