// Cheap, bounded looks at untrusted wire text. Nothing here recurses or copies more than it is told to, so it is
// safe on any frame the size limit lets through (8 MiB of "[" included).

/**
 * True when the JSON text nests arrays/objects deeper than `limit`. One pass over the characters, strings skipped,
 * stopping as soon as the limit is crossed; on text that is not JSON the answer is only a hint (the parse decides).
 */
export function nestingExceeds(text: string, limit: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Jump over the string (indexOf is native and fast): to the next quote not escaped by an odd run of backslashes.
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false; // unterminated: not JSON, and the parse says so
        let k = end - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((end - 1 - k) % 2 === 0) break;
      }
      i = end;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** At most `max` characters of `text`; a cut is marked with the full length so nobody mistakes it for the whole. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  // Do not leave half a surrogate pair at the cut.
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… [${text.length} characters in all]`;
}

/** As `clip`, for text still in UTF-8 bytes: only the first `max` bytes are decoded, and the cut names the size in bytes. */
export function clipBytes(bytes: Buffer, max: number): string {
  if (bytes.length <= max) return bytes.toString('utf8');
  // A character cut in two decodes as U+FFFD at the end: drop it.
  return `${bytes.toString('utf8', 0, max).replace(/\uFFFD$/, '')}… [${bytes.length} bytes in all]`;
}

/** A short description of a parsed JSON value for an error message: scalars shown (clipped), structures named. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(clip(value, 40));
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}
