// Limits that keep wire data safe to store and serialise. JSON.parse in V8 reads any depth, but JSON.stringify
// (and every recursive walk) overflows the stack at a few thousand levels, and at a depth that depends on how deep
// the caller's stack already is: so anything kept for later (log entries, events) is checked against a depth far
// below that, where every serialiser in the process is safe, and replaced by raw text or a marker beyond it.

import { MAX_FRAME_DEPTH } from '../ocpp/frames.js';

/**
 * Deepest nesting kept as a value: the relay's own limit, so what it forwards is always kept. OCPP 1.6 payloads
 * nest at most 5 levels; vendor data rarely more than a few.
 */
export const MAX_SAFE_DEPTH = MAX_FRAME_DEPTH;

/** Whether `value` nests deeper than `max` (a scalar is depth 0, `[]` is 1). Iterative: survives any depth. */
export function exceedsDepth(value: unknown, max: number = MAX_SAFE_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: { v: object; d: number }[] = [{ v: value, d: 1 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop() as { v: object; d: number };
    if (d > max) return true;
    const children: unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push({ v: child, d: d + 1 });
  }
  return false;
}

/** JSON text of `value`, or undefined when it cannot be serialised (too deep, a cycle, a BigInt, a throwing toJSON). */
export function tryStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** The first `maxBytes` bytes of `text` (UTF-8), cut at a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3) return text; // at most 3 bytes per UTF-16 unit: surely short enough
  // Every unit is at least one byte, so the first maxBytes units hold the answer: never encode the whole text.
  const buf = Buffer.from(text.length > maxBytes ? text.slice(0, maxBytes) : text);
  if (buf.length <= maxBytes && text.length <= maxBytes) return text;
  return buf.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
}
