// A string written into a buffer as a JSON string's contents (quotes not included), byte for byte what
// JSON.stringify would give, without building that text on the heap: the message log's writer escapes a frame's text
// straight into its batch buffer. Only for well-formed text (String.prototype.isWellFormed): UTF-8 cannot carry a
// lone surrogate, which JSON.stringify writes as \udXXX.

/** What each byte below 0x20, `"` and `\` becomes; undefined: the byte stays. */
const ESCAPES: (string | undefined)[] = Array.from({ length: 0x80 }, (_, c) => {
  if (c === 0x22) return '\\"';
  if (c === 0x5c) return '\\\\';
  if (c >= 0x20) return undefined;
  const short: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };
  return short[c] ?? `\\u${c.toString(16).padStart(4, '0')}`;
});
/** Extra bytes per code unit (an escape replaces one byte by 2 or 6). */
const EXTRA = Uint8Array.from(ESCAPES, (e) => (e === undefined ? 0 : e.length - 1));

/** Bytes of `text` as a JSON string's contents in UTF-8. */
export function escapedBytes(text: string): number {
  let extra = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) extra += EXTRA[c] as number;
  }
  return Buffer.byteLength(text) + extra;
}

/**
 * Writes `text` at `at` as a JSON string's contents, `bytes` long (escapedBytes). The text goes in as UTF-8 first;
 * escapes then widen it from its end backwards, so every byte moves at most once and nothing else is allocated.
 */
export function writeEscaped(buf: Buffer, at: number, text: string, bytes: number): void {
  const plain = buf.write(text, at);
  let src = at + plain - 1;
  let dst = at + bytes - 1;
  // Bytes of multi-byte characters are all 0x80 or above: only ASCII is ever escaped.
  while (src < dst) {
    const c = buf[src--] as number;
    const escape = c < 0x80 ? ESCAPES[c] : undefined;
    if (escape === undefined) {
      buf[dst--] = c;
      continue;
    }
    for (let k = escape.length - 1; k >= 0; k--) buf[dst--] = escape.charCodeAt(k);
  }
}
