// Requests of the OCPP 1.6 Security whitepaper (edition 2) that a charge point sends to the central system.
// The generated 1.6 schemas do not cover them, so their shapes are checked here before they are answered.
import { Ajv } from 'ajv';

const dateTime = { type: 'string', format: 'date-time' } as const;

const SCHEMAS = {
  SignCertificate: {
    type: 'object', additionalProperties: false, required: ['csr'],
    properties: { csr: { type: 'string', maxLength: 5500 } },
  },
  SecurityEventNotification: {
    type: 'object', additionalProperties: false, required: ['type', 'timestamp'],
    properties: { type: { type: 'string', maxLength: 50 }, timestamp: dateTime, techInfo: { type: 'string', maxLength: 255 } },
  },
  LogStatusNotification: {
    type: 'object', additionalProperties: false, required: ['status'],
    properties: {
      status: { enum: ['BadMessage', 'Idle', 'NotSupportedOperation', 'PermissionDenied', 'Uploaded', 'UploadFailure', 'Uploading'] },
      requestId: { type: 'integer' },
    },
  },
  SignedFirmwareStatusNotification: {
    type: 'object', additionalProperties: false, required: ['status'],
    properties: {
      status: {
        enum: [
          'Downloaded', 'DownloadFailed', 'Downloading', 'DownloadScheduled', 'DownloadPaused', 'Idle', 'InstallationFailed', 'Installing',
          'Installed', 'InstallRebooting', 'InstallScheduled', 'InstallVerificationFailed', 'InvalidSignature', 'SignatureVerified',
        ],
      },
      requestId: { type: 'integer' },
    },
  },
} as const;

export type SecurityAction = keyof typeof SCHEMAS;
export const SECURITY_ACTIONS = Object.keys(SCHEMAS) as SecurityAction[];

// Only date-time is needed; a hand-written check keeps ajv-formats out of this module.
const ajv = new Ajv({ allErrors: false, strict: false });
ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
const validators = new Map(SECURITY_ACTIONS.map((a) => [a, ajv.compile(SCHEMAS[a])] as const));

// The same keyword → CALLERROR code mapping as src/ocpp/validate.ts.
const CODES = new Map([
  ['required', 'OccurenceConstraintViolation'], ['type', 'TypeConstraintViolation'], ['enum', 'PropertyConstraintViolation'],
  ['maxLength', 'PropertyConstraintViolation'], ['format', 'PropertyConstraintViolation'], ['additionalProperties', 'FormationViolation'],
]);

/** The OCPP error code and a message, or undefined when the request is well formed. */
export function checkSecurityRequest(action: SecurityAction, payload: unknown): { code: string; message: string } | undefined {
  const check = validators.get(action);
  if (!check || check(payload)) return undefined;
  const e = check.errors?.[0];
  const where = e?.instancePath || '/';
  const code = CODES.get(e?.keyword ?? '') ?? 'FormationViolation';
  return { code, message: `${action}.req ${where} ${e?.message ?? 'is invalid'}` };
}
