// OCPP 1.6J CALLERROR codes, one class each (the 1.6 spellings: FormationViolation, OccurenceConstraintViolation).

export const CALL_ERROR_CODES = [
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
] as const;
export type CallErrorCode = (typeof CALL_ERROR_CODES)[number];

export function isCallErrorCode(code: string): code is CallErrorCode {
  return (CALL_ERROR_CODES as readonly string[]).includes(code);
}

export abstract class OcppCallError extends Error {
  abstract readonly code: CallErrorCode;
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class NotImplementedError extends OcppCallError { readonly code = 'NotImplemented' as const; }
export class NotSupportedError extends OcppCallError { readonly code = 'NotSupported' as const; }
export class InternalError extends OcppCallError { readonly code = 'InternalError' as const; }
export class ProtocolError extends OcppCallError { readonly code = 'ProtocolError' as const; }
export class SecurityError extends OcppCallError { readonly code = 'SecurityError' as const; }
export class FormationViolationError extends OcppCallError { readonly code = 'FormationViolation' as const; }
export class PropertyConstraintViolationError extends OcppCallError { readonly code = 'PropertyConstraintViolation' as const; }
export class OccurenceConstraintViolationError extends OcppCallError { readonly code = 'OccurenceConstraintViolation' as const; }
export class TypeConstraintViolationError extends OcppCallError { readonly code = 'TypeConstraintViolation' as const; }
export class GenericError extends OcppCallError { readonly code = 'GenericError' as const; }

const byCode: Record<CallErrorCode, new (message: string, details?: Record<string, unknown>) => OcppCallError> = {
  NotImplemented: NotImplementedError,
  NotSupported: NotSupportedError,
  InternalError,
  ProtocolError,
  SecurityError,
  FormationViolation: FormationViolationError,
  PropertyConstraintViolation: PropertyConstraintViolationError,
  OccurenceConstraintViolation: OccurenceConstraintViolationError,
  TypeConstraintViolation: TypeConstraintViolationError,
  GenericError,
};

/** The class for a code read off the wire; an unknown code becomes GenericError. */
export function fromWire(code: string, description: string, details: Record<string, unknown> = {}): OcppCallError {
  const Ctor = isCallErrorCode(code) ? byCode[code] : GenericError;
  return new Ctor(description, details);
}

// Codes stations send that are not 1.6 spellings but mean a 1.6 code: OCPP 2.0's spellings of the 1.6 typos.
const ALIASES = new Map<string, CallErrorCode>([
  ['FormatViolation', 'FormationViolation'],
  ['OccurrenceConstraintViolation', 'OccurenceConstraintViolation'],
]);

/** A code as OCPP 1.6 spells it: itself when it is one, its 1.6 spelling when it has one, else GenericError. */
export function toOcpp16Code(code: string): CallErrorCode {
  return isCallErrorCode(code) ? code : (ALIASES.get(code) ?? 'GenericError');
}
