// The day index: one fixed-size binary record per log line, so a query can scan a million entries' filter
// fields without reading or parsing the JSON lines, then read only the lines it returns.
import type { Direction, Disposition, Leg, LogEntry, Origin } from '../events/observations.js';
import type { MessageTypeName } from '../ocpp/frames.js';

export const RECORD_BYTES = 40;

export interface IndexRecord {
  readonly id: number;
  readonly atUs: number;
  /** Byte offset and length (without the newline) of the line in the day file. */
  readonly offset: number;
  readonly length: number;
  /** FNV-1a of chargeBoxId and action (0 when absent); equal hashes are confirmed on the line itself. */
  readonly stationHash: number;
  readonly actionHash: number;
  readonly flags: number;
}

/** Every value of a union, in a fixed order; the Record type makes the compiler insist on each one. */
const allOf = <T extends string>(values: Record<T, true>): readonly T[] => Object.keys(values) as T[];

export const DIRECTIONS = allOf<Direction>({ in: true, out: true });
export const LEGS = allOf<Leg>({ station: true, upstream: true });
export const MESSAGE_TYPES = allOf<MessageTypeName>({ CALL: true, CALLRESULT: true, CALLERROR: true });
export const ORIGINS = allOf<Origin>({ station: true, steve: true, 'local-cs': true, gateway: true, mirror: true });
export const DISPOSITIONS = allOf<Disposition>({ forwarded: true, refused: true, answered: true, own: true, local: true, injected: true, mirror: true });

// flags: bit 0 direction, bit 1 leg, bits 2-3 message type (0 = none), bits 4-6 origin, bits 7-9 disposition, bit 10 findings.
export const FLAG_VALUES = 1 << 11;

export const flagBits = {
  direction: (i: number): number => i,
  leg: (i: number): number => i << 1,
  messageType: (i: number): number => (i + 1) << 2,
  origin: (i: number): number => i << 4,
  disposition: (i: number): number => i << 7,
  findings: 1 << 10,
  masks: { direction: 1, leg: 1 << 1, messageType: 3 << 2, origin: 7 << 4, disposition: 7 << 7 },
} as const;

export function flagsOf(e: Pick<LogEntry, 'direction' | 'leg' | 'messageType' | 'origin' | 'disposition' | 'findings'>): number {
  return (
    flagBits.direction(DIRECTIONS.indexOf(e.direction)) |
    flagBits.leg(LEGS.indexOf(e.leg)) |
    (e.messageType === undefined ? 0 : flagBits.messageType(MESSAGE_TYPES.indexOf(e.messageType))) |
    flagBits.origin(ORIGINS.indexOf(e.origin)) |
    flagBits.disposition(DISPOSITIONS.indexOf(e.disposition)) |
    (e.findings.length > 0 ? flagBits.findings : 0)
  );
}

export function fnv1a(text: string | undefined): number {
  if (text === undefined) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function recordOf(entry: LogEntry, offset: number, length: number): IndexRecord {
  return {
    id: entry.id,
    atUs: entry.atUs,
    offset,
    length,
    stationHash: fnv1a(entry.chargeBoxId),
    actionHash: fnv1a(entry.action),
    flags: flagsOf(entry),
  };
}

export function writeRecord(buf: Buffer, pos: number, r: IndexRecord): void {
  buf.writeDoubleLE(r.id, pos);
  buf.writeDoubleLE(r.atUs, pos + 8);
  buf.writeDoubleLE(r.offset, pos + 16);
  buf.writeUInt32LE(r.length, pos + 24);
  buf.writeUInt32LE(r.stationHash, pos + 28);
  buf.writeUInt32LE(r.actionHash, pos + 32);
  buf.writeUInt16LE(r.flags, pos + 36);
  buf.writeUInt16LE(0, pos + 38);
}

export function readRecord(buf: Buffer, pos: number): IndexRecord {
  return {
    id: buf.readDoubleLE(pos),
    atUs: buf.readDoubleLE(pos + 8),
    offset: buf.readDoubleLE(pos + 16),
    length: buf.readUInt32LE(pos + 24),
    stationHash: buf.readUInt32LE(pos + 28),
    actionHash: buf.readUInt32LE(pos + 32),
    flags: buf.readUInt16LE(pos + 36),
  };
}
