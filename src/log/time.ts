// Microsecond wall-clock times: observations carry µs since the epoch; the log shows them as ISO 8601 with six
// fraction digits and names its files by UTC day.

const US_PER_DAY = 86_400_000_000;

/** "2025-03-01T12:00:00.123456Z" */
export function isoMicros(atUs: number): string {
  const us = Math.trunc(atUs);
  const second = Math.floor(us / 1_000_000);
  // Every entry is stamped: the "YYYY-MM-DDTHH:MM:SS." head is formatted once per second, not once per entry.
  if (second !== lastSecond) {
    lastSecond = second;
    lastHead = new Date(second * 1000).toISOString().slice(0, 20);
  }
  return `${lastHead}${String(us - second * 1_000_000).padStart(6, '0')}Z`;
}

let lastSecond = Number.NaN;
let lastHead = '';

/** The UTC day of a µs time, as used in file names: "2025-03-01". */
export function utcDay(atUs: number): string {
  // Called for every entry written: the day's name is made once per day.
  const dayIndex = Math.floor(Math.trunc(atUs) / US_PER_DAY);
  if (dayIndex !== lastDayIndex) {
    lastDayIndex = dayIndex;
    lastDay = new Date(dayIndex * 86_400_000).toISOString().slice(0, 10);
  }
  return lastDay;
}

let lastDayIndex = Number.NaN;
let lastDay = '';

/** µs at 00:00:00 UTC of a "YYYY-MM-DD" day. */
export function dayStartUs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) * 1000;
}

export function dayEndUs(day: string): number {
  return dayStartUs(day) + US_PER_DAY;
}

const ISO_WITH_FRACTION = /^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses an ISO 8601 time to µs since the epoch, keeping up to six fraction digits (Date.parse keeps three).
 * Returns undefined for anything Date.parse rejects.
 */
export function parseIsoMicros(text: string): number | undefined {
  const m = ISO_WITH_FRACTION.exec(text);
  if (m) {
    const [, head, fraction = '', zone = ''] = m;
    const ms = Date.parse(`${head}${zone}`);
    if (Number.isNaN(ms)) return undefined;
    return ms * 1000 + Number(fraction.slice(0, 6).padEnd(6, '0'));
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms * 1000;
}
