// What a simulated station is (SimStationSpec) and what an operator can make it do (SimAction), as types and
// as JSON schemas. The same schemas check REST bodies, the "simulator" section of the config file and scenarios.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { VehicleModel } from './battery.js';
import { DEFECTS, type Defect } from './defects.js';

export interface VehicleSpec {
  readonly model?: VehicleModel;
  /** SOC % when plugged in. */
  readonly initialSoc?: number;
  /** SOC % at which the EV stops drawing current (SuspendedEV). */
  readonly targetSoc?: number;
  /** Unplug this many seconds after reaching the target (absent: stay plugged). */
  readonly departAfterTargetS?: number;
}

export interface AutopilotSpec {
  /** Seconds without a vehicle between sessions, [min, max]. */
  readonly idleS?: readonly [number, number];
  /** Seconds between plug-in and presenting the tag. */
  readonly tagAfterS?: number;
  /** Seconds the vehicle stays plugged after reaching its target. */
  readonly dwellS?: number;
  readonly initialSoc?: readonly [number, number];
  readonly targetSoc?: readonly [number, number];
  readonly models?: readonly VehicleModel[];
}

/** The tag a simulated station presents when its spec names none; SteVe must know it (npm run steve-register). */
export const DEFAULT_ID_TAG = 'TEST_TAG';

export interface SimStationSpec {
  readonly id: string;
  readonly vendor?: string;
  readonly model?: string;
  readonly serialNumber?: string;
  readonly firmwareVersion?: string;
  readonly connectors?: number;
  /** HTTP Basic password presented when connecting over WebSocket. */
  readonly password?: string;
  readonly charger?: { readonly maxCurrentA?: number; readonly maxPowerW?: number };
  /** Initial configuration keys (standard 1.6 names), e.g. { "MeterValueSampleInterval": "60" }. */
  readonly config?: Readonly<Record<string, string>>;
  /** The vehicle plugged in when an action does not say otherwise. */
  readonly vehicle?: VehicleSpec;
  /** The tag it presents when an action names none (default DEFAULT_ID_TAG). */
  readonly idTag?: string;
  /** 'session': the register restarts at 0 at every StartTransaction (flashCharge firmware); 'lifetime': it never resets. */
  readonly energyRegister?: 'session' | 'lifetime';
  /** messageId of the pre-charge snapshot DataTransfer (the firmware at HEAD sends VehicleInfo). */
  readonly vehicleInfoMessageId?: 'VehicleInfo' | 'PreChargeData';
  /** Run sessions on its own: arrive, tag, charge to target, dwell, leave, idle, repeat. */
  readonly autopilot?: boolean | AutopilotSpec;
  /** Deliberate firmware defects (defects.ts), to prove the charger tests catch them; none by default. */
  readonly defects?: readonly Defect[];
}

export const FAULT_CODES = [
  'ConnectorLockFailure', 'EVCommunicationError', 'GroundFailure', 'HighTemperature', 'InternalError', 'OtherError',
  'OverCurrentFailure', 'PowerMeterFailure', 'PowerSwitchFailure', 'ReaderFailure', 'UnderVoltage', 'OverVoltage', 'WeakSignal',
] as const;
export type FaultCode = (typeof FAULT_CODES)[number];

export const BMS_ALERTS = ['BMS_EMERGENCY_STOP', 'BMS_CHARGING_DISABLED', 'BMS_CHARGING_ENABLED'] as const;
export type BmsAlertType = (typeof BMS_ALERTS)[number];

export type SimAction =
  | { readonly type: 'plugIn'; readonly connectorId?: number; readonly vehicle?: VehicleSpec }
  | { readonly type: 'plugOut'; readonly connectorId?: number }
  | { readonly type: 'presentTag'; readonly connectorId?: number; readonly idTag?: string }
  | { readonly type: 'start'; readonly connectorId?: number; readonly idTag?: string; readonly vehicle?: VehicleSpec }
  | { readonly type: 'stop'; readonly connectorId?: number }
  | { readonly type: 'fault'; readonly connectorId?: number; readonly errorCode?: FaultCode; readonly info?: string }
  | { readonly type: 'clearFault'; readonly connectorId?: number }
  | { readonly type: 'bmsAlert'; readonly connectorId?: number; readonly alertType?: BmsAlertType }
  | { readonly type: 'evsePause'; readonly connectorId?: number }
  | { readonly type: 'evseResume'; readonly connectorId?: number }
  | { readonly type: 'dropLink' }
  | { readonly type: 'reboot' };

export type SimActionType = SimAction['type'];
export const ACTION_TYPES: readonly SimActionType[] = [
  'plugIn', 'plugOut', 'presentTag', 'start', 'stop', 'fault', 'clearFault', 'bmsAlert', 'evsePause', 'evseResume', 'dropLink', 'reboot',
];

const percent = { type: 'number', minimum: 0, maximum: 100 } as const;
const range = (min: number, max: number) => ({ type: 'array', items: { type: 'number', minimum: min, maximum: max }, minItems: 2, maxItems: 2 });
const modelEnum = { enum: ['Classic', 'Pro', 'Max'] } as const;
const connectorId = { type: 'integer', minimum: 1, maximum: 8 } as const;

export const vehicleSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { model: modelEnum, initialSoc: percent, targetSoc: percent, departAfterTargetS: { type: 'number', minimum: 0 } },
} as const;

export const stationSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$' },
    vendor: { type: 'string', maxLength: 20 },
    model: { type: 'string', maxLength: 20 },
    serialNumber: { type: 'string', maxLength: 25 },
    firmwareVersion: { type: 'string', maxLength: 50 },
    connectors: { type: 'integer', minimum: 1, maximum: 8 },
    password: { type: 'string', minLength: 1 },
    charger: {
      type: 'object',
      additionalProperties: false,
      properties: { maxCurrentA: { type: 'number', exclusiveMinimum: 0 }, maxPowerW: { type: 'number', exclusiveMinimum: 0 } },
    },
    config: { type: 'object', additionalProperties: { type: 'string' } },
    vehicle: vehicleSchema,
    idTag: { type: 'string', minLength: 1, maxLength: 20 },
    energyRegister: { enum: ['session', 'lifetime'] },
    vehicleInfoMessageId: { enum: ['VehicleInfo', 'PreChargeData'] },
    autopilot: {
      oneOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            idleS: range(0, 86_400),
            tagAfterS: { type: 'number', minimum: 0 },
            dwellS: { type: 'number', minimum: 0 },
            initialSoc: range(0, 100),
            targetSoc: range(0, 100),
            models: { type: 'array', items: modelEnum, minItems: 1 },
          },
        },
      ],
    },
    defects: { type: 'array', items: { enum: DEFECTS }, uniqueItems: true },
  },
} as const;

/** A station template for scenarios and the config file: a spec without id, stamped out `count` times. */
export const stationTemplateSchema = {
  ...stationSpecSchema,
  required: [],
  properties: { ...stationSpecSchema.properties, count: { type: 'integer', minimum: 1, maximum: 100_000 }, idPrefix: { type: 'string', minLength: 1 } },
} as const;

export const actionSchema = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    type: { enum: ACTION_TYPES },
    connectorId,
    vehicle: vehicleSchema,
    idTag: { type: 'string', minLength: 1, maxLength: 20 },
    errorCode: { enum: FAULT_CODES },
    info: { type: 'string', maxLength: 50 },
    alertType: { enum: BMS_ALERTS },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: false });
const specCheck = ajv.compile(stationSpecSchema);
const actionCheck = ajv.compile(actionSchema);

/** The value at a JSON pointer (an ajv instancePath) inside `root`. */
function at(root: unknown, pointer: string): unknown {
  let v = root;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    v = typeof v === 'object' && v !== null && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/** A schema error of `value` as one line; an unknown defect is named, with the defects there are. */
export function schemaErrorText(e: ErrorObject | undefined, value: unknown): string {
  if (!e) return 'invalid';
  if (e.keyword === 'enum' && /\/defects\/\d+$/.test(e.instancePath)) {
    return `${e.instancePath}: unknown defect ${JSON.stringify(at(value, e.instancePath))}; the defects are ${DEFECTS.join(', ')}`;
  }
  return `${e.instancePath || '/'} ${e.message ?? 'invalid'}`;
}

const describe = (fn: ValidateFunction, value: unknown): string => schemaErrorText(fn.errors?.[0], value);

/** The spec, or a message saying what is wrong. */
export function checkStationSpec(value: unknown): { ok: true; spec: SimStationSpec } | { ok: false; message: string } {
  return specCheck(value) ? { ok: true, spec: value as unknown as SimStationSpec } : { ok: false, message: describe(specCheck, value) };
}

export function checkAction(value: unknown): { ok: true; action: SimAction } | { ok: false; message: string } {
  return actionCheck(value) ? { ok: true, action: value as unknown as SimAction } : { ok: false, message: describe(actionCheck, value) };
}
