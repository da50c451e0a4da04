// Partial matching of payloads against a case's expectation, variables (`${name}`) and paths (`answer.x.0.y`).
// Everything is read from own properties only: wire text never reaches an inherited property.
import type { Json } from './case.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export type Vars = ReadonlyMap<string, unknown>;

const VAR = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
/** `${now+90}`: the ISO time 90 station seconds after the case started (`${now-90}` before it). */
const NOW_PLUS = /^\$\{now([+-]\d{1,6})\}$/;

/** Replaces strings that are exactly `${name}` with the variable's value (any type); unknown names throw. */
export function substitute(value: Json | undefined, vars: Vars): unknown {
  if (typeof value === 'string') {
    const offset = NOW_PLUS.exec(value);
    if (offset) return new Date(Date.parse(String(vars.get('now'))) + Number(offset[1]) * 1000).toISOString();
    const m = VAR.exec(value);
    if (!m) return value;
    if (!vars.has(m[1]!)) throw new Error(`variable \${${m[1]!}} has not been captured by an earlier step`);
    return vars.get(m[1]!);
  }
  if (Array.isArray(value)) return value.map((v: Json) => substitute(v, vars));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: substitute(v as Json, vars), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/**
 * Where `actual` differs from `expected`, or undefined when it matches. Objects: every expected key must match
 * (others are ignored). Arrays: every expected element must match some actual element. Operators:
 * `{ $oneOf: [...] }`, `{ $exists: bool }`, `{ $gte: n }`, `{ $lte: n }`, `{ $not: value }`.
 */
export function mismatch(expected: unknown, actual: unknown, path = ''): string | undefined {
  const at = path || 'payload';
  if (isObject(expected)) {
    const ops = Object.keys(expected).filter((k) => k.startsWith('$'));
    if (ops.length > 0) {
      for (const op of ops) {
        const arg = expected[op];
        switch (op) {
          case '$oneOf':
            if (!Array.isArray(arg) || !arg.some((a) => mismatch(a, actual, path) === undefined)) return `${at} is ${JSON.stringify(actual)}, expected one of ${JSON.stringify(arg)}`;
            break;
          case '$exists':
            if ((actual !== undefined) !== arg) return `${at} ${arg ? 'is missing' : `should be absent, is ${JSON.stringify(actual)}`}`;
            break;
          case '$gte':
          case '$lte': {
            const n = typeof actual === 'string' ? Number(actual) : actual;
            if (typeof n !== 'number' || typeof arg !== 'number' || Number.isNaN(n) || (op === '$gte' ? n < arg : n > arg)) return `${at} is ${JSON.stringify(actual)}, expected ${op === '$gte' ? '≥' : '≤'} ${String(arg)}`;
            break;
          }
          case '$not':
            if (mismatch(arg, actual, path) === undefined) return `${at} is ${JSON.stringify(actual)}, expected anything else`;
            break;
          default:
            return `unknown operator ${op} at ${at}`;
        }
      }
      return undefined;
    }
    if (!isObject(actual)) return `${at} is ${JSON.stringify(actual)}, expected an object`;
    for (const [k, v] of Object.entries(expected)) {
      const sub = path ? `${path}.${k}` : k;
      const got = own(actual, k) ? actual[k] : undefined;
      const m = mismatch(v, got, sub);
      if (m) return m;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${at} is ${JSON.stringify(actual)}, expected a list`;
    for (const [i, e] of expected.entries()) {
      if (!actual.some((a) => mismatch(e, a, path) === undefined)) return `${at} has no element matching ${JSON.stringify(expected[i])}`;
    }
    return undefined;
  }
  if (expected === actual) return undefined;
  return `${at} is ${actual === undefined ? 'missing' : JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
}

/** Reads `a.b.0.c` from a value; undefined when any step is missing. */
export function readPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const part of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (isObject(cur) && own(cur, part)) cur = cur[part];
    else return undefined;
  }
  return cur;
}
