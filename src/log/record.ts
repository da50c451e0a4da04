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

export const DIRECTIONS = ['in', 'out'] as const satisfies readonly Direction[];
export const LEGS = ['station', 'upstream'] as const satisfies readonly Leg[];
export const MESSAGE_TYPES = ['CALL', 'CALLRESULT', 'CALLERROR'] as const satisfies readonly MessageTypeName[];
export const ORIGINS = ['station', 'steve', 'local-cs', 'gateway'] as const satisfies readonly Origin[];
export const DISPOSITIONS = ['forwarded', 'refused', 'answered', 'own', 'local'] as const satisfies readonly Disposition[];

// flags: bit 0 direction, bit 1 leg, bits 2-3 message type (0 = none), bits 4-5 origin, bits 6-8 disposition, bit 9 findings.
const at = <T>(list: readonly T[], value: T | undefined): number => (value === undefined ? -1 : list.indexOf(value));

export function flagsOf(e: Pick<LogEntry, 'direction' | 'leg' | 'messageType' | 'origin' | 'disposition' | 'findings'>): number {
  return (
    Math.max(0, at(DIRECTIONS, e.direction)) |
    (Math.max(0, at(LEGS, e.leg)) << 1) |
    ((at(MESSAGE_TYPES, e.messageType) + 1) << 2) |
    (Math.max(0, at(ORIGINS, e.origin)) << 4) |
    (Math.max(0, at(DISPOSITIONS, e.disposition)) << 6) |
    ((e.findings.length > 0 ? 1 : 0) << 9)
  );
}

export const flagBits = {
  direction: (i: number): number => i,
  leg: (i: number): number => i << 1,
  messageType: (i: number): number => (i + 1) << 2,
  origin: (i: number): number => i << 4,
  disposition: (i: number): number => i << 6,
  findings: 1 << 9,
  masks: { direction: 1, leg: 1 << 1, messageType: 3 << 2, origin: 3 << 4, disposition: 7 << 6 },
} as const;

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
