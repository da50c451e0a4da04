// Vendor DataTransfer messages by schema: a registry keyed by vendorId and messageId, read from files an operator
// can add to (vendor-messages/*.json|yaml). Each file gives a JSON Schema for `data` and a small declarative mapping
// to an event (docs/events.md "Vendor messages"). Files are read and checked once, at start; a bad one stops the
// start with its path and what is wrong.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import YAML from 'yaml';

/** The vendorId in a file that stands for EVENTS_VENDOR_ID (the flashCharge vendor, default RivotMotors). */
export const CONFIGURED_VENDOR = '$EVENTS_VENDOR_ID';

/** The messages shipped with the gateway (flashCharge's). */
export const BUILTIN_VENDOR_MESSAGES_DIR = fileURLToPath(new URL('../../vendor-messages', import.meta.url));

/** How a value from `data` is read. */
export type FieldKind = 'number' | 'integer' | 'string' | 'boolean' | 'json';
export type Scalar = string | number | boolean | null;

export interface FieldRule {
  /** Path into data: property names joined by dots ("cells.0.temp"), or "$" for the whole object. */
  readonly from: string;
  readonly as: FieldKind;
  /** number/integer: outside [min, max] the field is left out, with a finding. */
  readonly min?: number;
  readonly max?: number;
  /** Value table: the read value (as text) → what the field becomes; a value not listed leaves the field out. */
  readonly map?: ReadonlyMap<string, Scalar>;
}

/** Event types a vendor message may produce; vendorEvent is the generic one for new vendors. */
export const VENDOR_EVENT_TYPES = ['preChargeData', 'sessionSummary', 'bmsAlert', 'vendorEvent'] as const;
export type VendorEventType = (typeof VENDOR_EVENT_TYPES)[number];

export interface VendorMessage {
  readonly vendorId: string;
  readonly messageId: string;
  /** The file it came from, for errors and the registry listing. */
  readonly file: string;
  readonly validate: ValidateFunction;
  readonly emits: {
    readonly type: VendorEventType;
    /** Event field → rule, in file order. */
    readonly fields: ReadonlyMap<string, FieldRule>;
    /** Named derivations done in code; only "vehicle" (model from current, battery Ah, range) exists. */
    readonly derive?: 'vehicle';
  };
}

/** What each catalogue type accepts, so a file cannot produce an event its consumers do not understand. */
const TARGET_FIELDS: ReadonlyMap<VendorEventType, ReadonlyMap<string, FieldKind> | 'any'> = new Map<VendorEventType, ReadonlyMap<string, FieldKind> | 'any'>([
  ['preChargeData', new Map<string, FieldKind>([
    ['soc', 'number'], ['maxCurrent', 'number'], ['voltage', 'number'], ['current', 'number'], ['temperature', 'number'],
    ['range', 'number'], ['maxRange', 'number'], ['batteryAh', 'number'], ['model', 'string'],
  ])],
  ['sessionSummary', new Map<string, FieldKind>([['finalSoc', 'number'], ['energyDelivered', 'number'], ['durationMinutes', 'number']])],
  ['bmsAlert', new Map<string, FieldKind>([['alert', 'string'], ['permission', 'boolean'], ['raw', 'json']])],
  ['vendorEvent', 'any'],
]);

const KINDS: ReadonlySet<string> = new Set<FieldKind>(['number', 'integer', 'string', 'boolean', 'json']);
const FILE_KEYS: ReadonlySet<string> = new Set(['vendorId', 'messageId', 'description', 'schema', 'emits']);
const EMITS_KEYS: ReadonlySet<string> = new Set(['type', 'fields', 'derive']);
const RULE_KEYS: ReadonlySet<string> = new Set(['from', 'as', 'min', 'max', 'map']);
/** Names a field may not take: they are set by the gateway, or would break the object they land in. */
const RESERVED: ReadonlySet<string> = new Set(['vendorId', 'messageId', '__proto__', 'constructor', 'prototype']);

export class VendorMessageError extends Error {
  override name = 'VendorMessageError';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkKeys(where: string, o: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const k of Object.keys(o)) if (!known.has(k)) throw new VendorMessageError(`${where}: unknown key "${k}" (known: ${[...known].join(', ')})`);
}

function checkRule(where: string, raw: unknown, want: FieldKind | undefined): FieldRule {
  if (!isObject(raw)) throw new VendorMessageError(`${where} must be an object like {"from": "soc", "as": "number"}`);
  checkKeys(where, raw, RULE_KEYS);
  const { from, as, min, max, map } = raw;
  if (typeof from !== 'string' || from === '') throw new VendorMessageError(`${where}.from must be a path into data ("soc", "cells.0.temp") or "$"`);
  if (typeof as !== 'string' || !KINDS.has(as)) throw new VendorMessageError(`${where}.as must be one of ${[...KINDS].join(', ')}`);
  for (const [k, v] of [['min', min], ['max', max]] as const) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new VendorMessageError(`${where}.${k} must be a number`);
    if (v !== undefined && as !== 'number' && as !== 'integer') throw new VendorMessageError(`${where}.${k} needs "as": "number" or "integer"`);
  }
  let table: Map<string, Scalar> | undefined;
  if (map !== undefined) {
    if (!isObject(map) || as === 'json') throw new VendorMessageError(`${where}.map must be an object of value → result, on a number, integer, string or boolean field`);
    table = new Map();
    for (const [k, v] of Object.entries(map)) {
      if (v !== null && typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new VendorMessageError(`${where}.map["${k}"] must be a string, number, boolean or null`);
      table.set(k, v);
    }
  }
  if (want !== undefined) {
    // A map may turn any read value into the target's kind; the results must then have it.
    const results = table ? [...table.values()] : undefined;
    const ok = results
      ? results.every((v) => v === null || (want === 'number' ? typeof v === 'number' : want === 'boolean' ? typeof v === 'boolean' : want === 'string' ? typeof v === 'string' : true))
      : as === want || (want === 'number' && as === 'integer');
    if (!ok) throw new VendorMessageError(`${where}: this event field is a ${want}${table ? '; every map result must be one' : `, not ${as}`}`);
  }
  return {
    from,
    as: as as FieldKind,
    ...(typeof min === 'number' ? { min } : {}),
    ...(typeof max === 'number' ? { max } : {}),
    ...(table ? { map: table } : {}),
  };
}

function checkEntry(file: string, raw: unknown, ajv: Ajv): VendorMessage {
  if (!isObject(raw)) throw new VendorMessageError(`${file}: the top level must be an object with vendorId, messageId, schema, emits`);
  checkKeys(file, raw, FILE_KEYS);
  const { vendorId, messageId, schema, emits } = raw;
  if (typeof vendorId !== 'string' || vendorId === '') throw new VendorMessageError(`${file}: vendorId must be a non-empty string (or "${CONFIGURED_VENDOR}")`);
  if (typeof messageId !== 'string' || messageId === '') throw new VendorMessageError(`${file}: messageId must be a non-empty string`);
  if (!isObject(schema)) throw new VendorMessageError(`${file}: schema must be a JSON Schema object for data (at least {"type": "object"})`);
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    throw new VendorMessageError(`${file}: schema is not a valid JSON Schema: ${(err as Error).message}`);
  }
  if (!isObject(emits)) throw new VendorMessageError(`${file}: emits must be an object {"type": ..., "fields": {...}}`);
  checkKeys(`${file}: emits`, emits, EMITS_KEYS);
  const type = emits.type;
  if (typeof type !== 'string' || !(VENDOR_EVENT_TYPES as readonly string[]).includes(type)) {
    throw new VendorMessageError(`${file}: emits.type must be one of ${VENDOR_EVENT_TYPES.join(', ')}`);
  }
  const target = TARGET_FIELDS.get(type as VendorEventType)!;
  if (!isObject(emits.fields)) throw new VendorMessageError(`${file}: emits.fields must be an object of event field → {"from", "as"}`);
  const fields = new Map<string, FieldRule>();
  for (const [name, rule] of Object.entries(emits.fields)) {
    if (RESERVED.has(name)) throw new VendorMessageError(`${file}: emits.fields.${name}: this name is reserved`);
    if (target !== 'any' && !target.has(name)) throw new VendorMessageError(`${file}: emits.fields.${name}: ${type} has no such field (it has ${[...target.keys()].join(', ')})`);
    fields.set(name, checkRule(`${file}: emits.fields.${name}`, rule, target === 'any' ? undefined : target.get(name)));
  }
  if (type === 'bmsAlert' && !fields.has('raw')) throw new VendorMessageError(`${file}: a bmsAlert needs a "raw" field (e.g. {"from": "$", "as": "json"})`);
  if (emits.derive !== undefined && !(emits.derive === 'vehicle' && type === 'preChargeData')) {
    throw new VendorMessageError(`${file}: emits.derive can only be "vehicle", on a preChargeData`);
  }
  return { vendorId, messageId, file, validate, emits: { type: type as VendorEventType, fields, ...(emits.derive === 'vehicle' ? { derive: 'vehicle' as const } : {}) } };
}

function readEntry(file: string, ajv: Ajv): VendorMessage {
  let parsed: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    parsed = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new VendorMessageError(`${file}: cannot be read: ${(err as Error).message}`);
  }
  return checkEntry(file, parsed, ajv);
}

function filesIn(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new VendorMessageError(`${dir}: vendor message directory not found (EVENTS_VENDOR_MESSAGES_DIR)`);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(json|ya?ml)$/.test(name))
    .sort()
    .map((name) => path.join(dir, name));
}

export class VendorRegistry {
  /** vendorId (or CONFIGURED_VENDOR) → messageId → message. */
  readonly #byVendor = new Map<string, Map<string, VendorMessage>>();

  /** Reads every *.json, *.yaml, *.yml under the directories; a later directory's entry replaces an earlier one. */
  static load(dirs: readonly string[]): VendorRegistry {
    const ajv = new Ajv({ allErrors: true, strict: false });
    const reg = new VendorRegistry();
    for (const dir of dirs) {
      const seen = new Map<string, string>();
      for (const file of filesIn(dir)) {
        const m = readEntry(file, ajv);
        const key = `${m.vendorId}\u0000${m.messageId}`;
        const twin = seen.get(key);
        if (twin) throw new VendorMessageError(`${file}: ${m.vendorId} / ${m.messageId} is also defined in ${twin}`);
        seen.set(key, file);
        reg.add(m);
      }
    }
    return reg;
  }

  add(m: VendorMessage): void {
    let byMessage = this.#byVendor.get(m.vendorId);
    if (!byMessage) this.#byVendor.set(m.vendorId, (byMessage = new Map()));
    byMessage.set(m.messageId, m);
  }

  /** The entry for this message; `configuredVendor` (EVENTS_VENDOR_ID) also finds the "$EVENTS_VENDOR_ID" entries. */
  get(vendorId: string, messageId: string, configuredVendor: string): VendorMessage | undefined {
    return this.#byVendor.get(vendorId)?.get(messageId) ?? (vendorId === configuredVendor ? this.#byVendor.get(CONFIGURED_VENDOR)?.get(messageId) : undefined);
  }

  /** Every entry, for listing. */
  entries(): VendorMessage[] {
    return [...this.#byVendor.values()].flatMap((m) => [...m.values()]);
  }
}

let builtin: VendorRegistry | undefined;

/** The shipped messages alone, read on first use (callers that pass no registry). */
export function builtinVendorRegistry(): VendorRegistry {
  builtin ??= VendorRegistry.load([BUILTIN_VENDOR_MESSAGES_DIR]);
  return builtin;
}
