// RFC 3339 date-time (JSON Schema "date-time") without allocating: the format checker ajv-formats ships splits the
// text and runs two regular expressions with match arrays, which made schema checks the message log's largest
// allocation per relayed call (Heartbeat.conf's currentTime, MeterValues' timestamps). Same verdicts as
// ajv-formats' full "date-time" (time zone required, leap seconds only at 23:59:60 UTC); test/ocpp/date-time.test.ts
// compares the two.

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
};

/** Two digits at i as a number, or -1. */
const two = (s: string, i: number): number => {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
};

const isLeapYear = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);

export function isDateTime(s: string): boolean {
  // yyyy-mm-dd
  if (s.length < 20 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const y1 = two(s, 0);
  const y2 = two(s, 2);
  const month = two(s, 5);
  const day = two(s, 8);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1) return false;
  if (day > (month === 2 && isLeapYear(y1 * 100 + y2) ? 29 : (DAYS[month] as number))) return false;
  // One separator: T, t or whitespace (ajv-formats splits on /t|\s/i and wants exactly two parts).
  if (!isSeparator(s.charCodeAt(10))) return false;
  // hh:mm:ss
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  const hr = two(s, 11);
  const min = two(s, 14);
  const sec = two(s, 17);
  if (hr < 0 || min < 0 || sec < 0) return false;
  let i = 19;
  if (s.charCodeAt(i) === 46) {
    i++;
    const start = i;
    while (digit(s, i) >= 0) i++;
    if (i === start) return false;
  }
  // Time zone: z | ±hh | ±hh:mm | ±hhmm (required).
  let tzSign = 1;
  let tzH = 0;
  let tzM = 0;
  const c = s.charCodeAt(i);
  if (c === 90 || c === 122) {
    i++;
  } else if (c === 43 || c === 45) {
    tzSign = c === 45 ? -1 : 1;
    tzH = two(s, i + 1);
    if (tzH < 0) return false;
    i += 3;
    if (i < s.length) {
      if (s.charCodeAt(i) === 58) i++;
      tzM = two(s, i);
      if (tzM < 0) return false;
      i += 2;
    }
  } else {
    return false;
  }
  if (i !== s.length) return false;
  // Any other separator-like character in the text would have split it into more than two parts.
  for (let j = 11; j < s.length; j++) if (isSeparator(s.charCodeAt(j))) return false;
  if (tzH > 23 || tzM > 59) return false;
  if (hr <= 23 && min <= 59 && sec < 60) return true;
  // A leap second: 23:59:60 in UTC.
  const utcMin = min - tzM * tzSign;
  const utcHr = hr - tzH * tzSign - (utcMin < 0 ? 1 : 0);
  return (utcHr === 23 || utcHr === -1) && (utcMin === 59 || utcMin === -1) && sec < 61;
}

/** t, T or a character /\s/ matches (what ajv-formats splits date from time on). */
function isSeparator(c: number): boolean {
  if (c === 84 || c === 116 || c === 32) return true;
  if (c >= 9 && c <= 13) return true;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
