// CSV rows for log exports (RFC 4180: comma separated, CRLF, quotes doubled). Nested values are JSON in their cell.
import type { LogEntry } from '../events/observations.js';
import { tryStringify } from '../events/json-safety.js';

export const CSV_COLUMNS = [
  'id', 'time', 'chargeBoxId', 'linkKind', 'leg', 'direction', 'origin', 'disposition',
  'messageType', 'action', 'messageId', 'rttMs', 'problem', 'findings', 'payload', 'raw', 'rawBytes',
] as const;

function cell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function text(entry: LogEntry, column: (typeof CSV_COLUMNS)[number]): string {
  switch (column) {
    case 'findings':
      return entry.findings.length > 0 ? (tryStringify(entry.findings) ?? '') : '';
    case 'payload':
      // A payload that cannot be serialised leaves its cell empty; the raw column still has the frame.
      return entry.payload === undefined ? '' : (tryStringify(entry.payload) ?? '');
    default: {
      const v = entry[column];
      return v === undefined ? '' : String(v);
    }
  }
}

export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\r\n`;

export const csvRow = (entry: LogEntry): string => `${CSV_COLUMNS.map((c) => cell(text(entry, c))).join(',')}\r\n`;
