// Hostile frames, by category, from a seeded PRNG. Each frame says what the gateway owes for it: an answer with a
// given message id, a CALLERROR rather than a CALLRESULT (embedded mode), or a close with a given code.
import type { Rng } from './prng.js';

export const CATEGORIES = [
  'not-json',
  'wrong-shape',
  'wrong-types',
  'unknown-action',
  'inherited-action',
  'known-action',
  'huge-string',
  'deep-head',
  'deep-nesting',
  'odd-text',
  'invalid-utf8',
  'binary',
  'oversize',
  'unreadable-id',
  'duplicate-id',
  'stray-answer',
  'bad-error-code',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** Categories whose frames must close the link. */
export const CLOSING_CATEGORIES: ReadonlySet<Category> = new Set<Category>(['invalid-utf8', 'binary', 'oversize']);

export interface HostileFrame {
  readonly category: Category;
  readonly data: string | Buffer;
  /** A Buffer sent as a binary WebSocket frame (else as a text frame, whatever its bytes). */
  readonly binary?: boolean;
  /** The id an answer must carry: the frame is a CALL whose id the gateway can read (or echo). */
  readonly answerId?: string;
  /** The embedded central system does not implement this action: a CALLRESULT is a wrong answer. */
  readonly notImplemented?: boolean;
  /** The gateway must close the link with this code. */
  readonly closes?: number;
}

/** Actions the embedded central system answers (README, "Embedded central system"). */
export const EMBEDDED_ACTIONS: ReadonlySet<string> = new Set([
  'BootNotification', 'Heartbeat', 'StatusNotification', 'Authorize', 'StartTransaction', 'StopTransaction',
  'MeterValues', 'DataTransfer', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification',
]);

/** Names every plain JavaScript object inherits: a lookup keyed by wire text must not find them. */
export const INHERITED_NAMES = [
  'hasOwnProperty', '__proto__', 'constructor', 'toString', 'valueOf', 'toLocaleString', 'isPrototypeOf',
  'propertyIsEnumerable', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__',
] as const;

/** CALLERROR codes that are not OCPP 1.6's (SteVe closes the socket with 1011 on these). */
export const BAD_ERROR_CODES: readonly unknown[] = ['FormatViolation', '', 'OccurrenceConstraintViolation', 'notimplemented', 'GenericError ', 'x'.repeat(300), 5, null, {}, ['GenericError']];

const KNOWN_PAYLOADS: ReadonlyArray<readonly [string, object]> = [
  ['Heartbeat', {}],
  ['BootNotification', { chargePointVendor: 'Fuzz', chargePointModel: 'F1' }],
  ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available' }],
  ['Authorize', { idTag: 'FUZZTAG' }],
  ['MeterValues', { connectorId: 1, meterValue: [{ timestamp: '2026-01-01T00:00:00Z', sampledValue: [{ value: '1' }] }] }],
  ['DataTransfer', { vendorId: 'fuzz', messageId: 'x', data: 'y' }],
  ['StartTransaction', { connectorId: 1, idTag: 'FUZZTAG', meterStart: 0, timestamp: '2026-01-01T00:00:00Z' }],
  ['StopTransaction', { transactionId: 1, meterStop: 10, timestamp: '2026-01-01T00:00:00Z' }],
  ['FirmwareStatusNotification', { status: 'Idle' }],
  ['DiagnosticsStatusNotification', { status: 'Idle' }],
];

const ODD_STRINGS = ['\u0000', '\u0007\u001b[2J', '\u202e', '😀😀', '\ud800', '\udfff', '\\', '"', '\u2028\u2029', 'ÿ', '%s%n', '<script>', '../..', ''];

export interface GeneratorContext {
  /** A fresh message id, unique on this connection. */
  nextId(): string;
  readonly maxFrameBytes: number;
}

export interface FrameGenerator {
  next(ctx: GeneratorContext): HostileFrame[];
}

const deepArray = (n: number, inner = ''): string => '['.repeat(n) + inner + ']'.repeat(n);
const deepObject = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

export function createFrameGenerator(rng: Rng, categories: readonly Category[]): FrameGenerator {
  if (categories.length === 0) throw new RangeError('no frame categories left to generate');
  const cached = new Map<string, string>(); // large frames are built once per run
  const once = (key: string, build: () => string): string => {
    let v = cached.get(key);
    if (v === undefined) cached.set(key, (v = build()));
    return v;
  };
  const call = (category: Category, id: string, action: string, payloadJson: string): HostileFrame => ({
    category,
    data: `[2,${JSON.stringify(id)},${JSON.stringify(action)},${payloadJson}]`,
    answerId: id,
    notImplemented: !EMBEDDED_ACTIONS.has(action),
  });
  const anyAction = (): string => rng.pick(KNOWN_PAYLOADS)[0];
  // Depths around the limits that matter (64, SteVe's 1000) and far past them, within the frame limit.
  const deep = (ctx: GeneratorContext): { n: number; arr: string } => {
    const n = Math.min(rng.pick([65, 200, 1000, 1001, 5000, 20000, 100000]), Math.floor((ctx.maxFrameBytes - 100) / 6));
    return { n, arr: once(`arr-${n}`, () => deepArray(n)) };
  };

  const build: Record<Category, (ctx: GeneratorContext) => HostileFrame[]> = {
    'not-json': () => {
      const texts = ['', ' ', 'x', '[', '[2,"a","Heartbeat",{}', '[2,"a","Heartbeat",{},]', "[2,'a','Heartbeat',{}]", '{"a":1', 'undefined', 'NaN', '[2,"a","Heartbeat",{"a":01}]', '\u0000[]', '[2,"a" "Heartbeat",{}]'];
      return [{ category: 'not-json', data: rng.chance(0.7) ? rng.pick(texts) : randomText(rng, rng.int(1, 200)) }];
    },
    'wrong-shape': (ctx) => {
      const id = ctx.nextId();
      const q = JSON.stringify(id);
      const answered: string[] = [`[2,${q}]`, `[2,${q},"Heartbeat"]`, `[2,${q},"Heartbeat",{},1]`, `[2,${q},"Heartbeat",[]]`, `[2,${q},"Heartbeat",null]`, `[2,${q},"Heartbeat","{}"]`, `[2,${q},5,{}]`, `[2,${q},"",{}]`, `[2,${q},null,{}]`, `[2,${q},{},{}]`];
      const unanswered = ['{}', '[]', '[2]', 'null', '"text"', '42', 'true', '[5,"a","Heartbeat",{}]', '["2","a","Heartbeat",{}]', '[0,"a"]', '[-1,"a"]', '[3,"a"]', '[3,"a",[]]', '[3,"a",{},1]', '[4,"a","GenericError"]', '[4,"a","GenericError","",[]]', '[{"2":1},"a"]', '[[2],"a","Heartbeat",{}]'];
      if (rng.chance(0.5)) return [{ category: 'wrong-shape', data: rng.pick(answered), answerId: id }];
      return [{ category: 'wrong-shape', data: rng.pick(unanswered) }];
    },
    'wrong-types': (ctx) => {
      const [action] = rng.pick(KNOWN_PAYLOADS);
      const odd = rng.pick(['{"connectorId":"one"}', '{"idTag":5}', '{"chargePointVendor":[],"chargePointModel":{}}', '{"meterValue":"x"}', '{"transactionId":-1e308}', '{"a":1e400}', '{"a":1,"a":2}', '{"currentTime":null}', '{"status":true}', '{"connectorId":1.5,"errorCode":"NoError","status":"Nope"}']);
      return [call('wrong-types', ctx.nextId(), action, odd)];
    },
    'unknown-action': (ctx) => {
      const action = rng.pick(['FooBar', 'heartbeat', 'HEARTBEAT', 'Heartbeat ', ' Heartbeat', 'GetConfiguration', 'SignCertificate', 'Héartbeat', '😀', 'a'.repeat(rng.int(50, 500)), randomText(rng, rng.int(1, 30))]);
      return [call('unknown-action', ctx.nextId(), action, '{}')];
    },
    'inherited-action': (ctx) => {
      const name = rng.pick(INHERITED_NAMES);
      const payload = rng.chance(0.3) ? `{${JSON.stringify(rng.pick(INHERITED_NAMES))}:{"a":1}}` : '{}';
      return [call('inherited-action', ctx.nextId(), name, payload)];
    },
    'known-action': (ctx) => {
      const [action, payload] = rng.pick(KNOWN_PAYLOADS);
      const extra = rng.chance(0.3) ? { [rng.pick(INHERITED_NAMES)]: { polluted: true } } : {};
      return [call('known-action', ctx.nextId(), action, JSON.stringify({ ...payload, ...extra }))];
    },
    'huge-string': (ctx) => {
      // A few sizes up to just under the frame limit, each built once: the fuzzer's own memory stays small.
      const size = Math.max(16, rng.pick([1024, 16_384, ctx.maxFrameBytes >> 1, ctx.maxFrameBytes - 512]));
      const big = once(`big-${size}`, () => 'ÿx'.repeat(size >> 2)); // ÿ is 2 bytes in UTF-8: 3 bytes per pair
      const id = ctx.nextId();
      switch (rng.int(0, 3)) {
        case 0: return [call('huge-string', id, 'DataTransfer', JSON.stringify({ vendorId: 'fuzz', data: big }))];
        case 1: return [{ ...call('huge-string', id, big.slice(0, 10_000), '{}') }];
        case 2: return [{ category: 'huge-string', data: `[2,${JSON.stringify(big)},"Heartbeat",{}]` }]; // id far too long to echo
        default: return [{ category: 'huge-string', data: `[4,"nobody","GenericError",${JSON.stringify(big)},{}]` }];
      }
    },
    // Deep nesting where the frame's head should be: message type, message id, the whole frame.
    'deep-head': (ctx) => {
      const { n, arr } = deep(ctx);
      switch (rng.int(0, 2)) {
        case 0: return [{ category: 'deep-head', data: `[${arr},${JSON.stringify(ctx.nextId())},"Heartbeat",{}]` }];
        case 1: return [{ category: 'deep-head', data: `[2,${arr},"Heartbeat",{}]` }];
        default: return [{ category: 'deep-head', data: n % 2 ? arr : once(`obj-${n}`, () => deepObject(n)) }];
      }
    },
    // Deep nesting in the body: action, CALL payload, CALLRESULT payload, CALLERROR description and details.
    'deep-nesting': (ctx) => {
      const { n, arr } = deep(ctx);
      const obj = once(`obj-${n}`, () => deepObject(n));
      const id = ctx.nextId();
      switch (rng.int(0, 4)) {
        case 0: return [{ category: 'deep-nesting', data: `[2,${JSON.stringify(id)},${arr},{}]`, answerId: id }];
        case 1: return [{ ...call('deep-nesting', id, 'DataTransfer', `{"vendorId":"fuzz","data":${obj}}`) }];
        case 2: return [{ category: 'deep-nesting', data: `[4,"nobody","GenericError","",{"a":${arr}}]` }];
        case 3: return [{ category: 'deep-nesting', data: `[4,"nobody","GenericError",${arr},{}]` }];
        default: return [{ category: 'deep-nesting', data: `[3,"nobody",${obj}]` }];
      }
    },
    'odd-text': (ctx) => {
      const s = rng.pick(ODD_STRINGS);
      const id = ctx.nextId();
      if (rng.chance(0.5)) return [call('odd-text', id, 'DataTransfer', JSON.stringify({ vendorId: s, data: s.repeat(rng.int(1, 50)) }))];
      const forms = [`[2.0,${JSON.stringify(id)},"Heartbeat",{}]`, `[2e0,${JSON.stringify(id)},"Heartbeat",{}]`, ` \n\t[ 2 , ${JSON.stringify(id)} , "Heartbeat" , { } ] \n`];
      return [{ category: 'odd-text', data: rng.pick(forms), answerId: id, notImplemented: false }];
    },
    'invalid-utf8': (ctx) => {
      const bad = rng.pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]]);
      const data = Buffer.concat([Buffer.from(`[2,"${ctx.nextId()}","DataTransfer",{"vendorId":"`), Buffer.from(bad), Buffer.from('"}]')]);
      return [{ category: 'invalid-utf8', data, closes: 1007 }];
    },
    binary: (ctx) => {
      const data = rng.chance(0.5) ? Buffer.from(`[2,"${ctx.nextId()}","Heartbeat",{}]`) : Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255)));
      return [{ category: 'binary', data, binary: true, closes: 1003 }];
    },
    oversize: (ctx) => {
      const big = once('oversize', () => `[2,"big","DataTransfer",{"vendorId":"fuzz","data":"${'x'.repeat(ctx.maxFrameBytes)}"}]`);
      return [{ category: 'oversize', data: big, closes: 1009 }];
    },
    'unreadable-id': () => {
      // Item 8: a number, or a string over 36 characters, still gets an answer carrying it back (or a documented close).
      const pick = rng.int(0, 4);
      if (pick === 0) {
        const n = rng.int(0, 1_000_000);
        return [{ category: 'unreadable-id', data: `[2,${n},"Heartbeat",{}]`, answerId: String(n) }];
      }
      if (pick === 1) {
        const long = 'L'.repeat(rng.int(37, 128));
        return [{ category: 'unreadable-id', data: `[2,${JSON.stringify(long)},"Heartbeat",{}]`, answerId: long }];
      }
      return [{ category: 'unreadable-id', data: rng.pick(['[2,"","Heartbeat",{}]', '[2,null,"Heartbeat",{}]', '[2,{},"Heartbeat",{}]', '[2,["a"],"Heartbeat",{}]', '[2,true,"Heartbeat",{}]']) }];
    },
    'duplicate-id': (ctx) => {
      const id = ctx.nextId();
      const action = anyAction();
      const payload = JSON.stringify(KNOWN_PAYLOADS.find(([a]) => a === action)?.[1] ?? {});
      return [call('duplicate-id', id, action, payload), call('duplicate-id', id, action, payload)];
    },
    'stray-answer': (ctx) => {
      const id = rng.chance(0.5) ? ctx.nextId() : rng.pick(['up-1', 'up-2', 'cb-1', 'x', '0']);
      return [{ category: 'stray-answer', data: rng.chance(0.5) ? `[3,${JSON.stringify(id)},{}]` : `[4,${JSON.stringify(id)},"GenericError","stray",{}]` }];
    },
    'bad-error-code': () => {
      const code = rng.pick(BAD_ERROR_CODES);
      return [{ category: 'bad-error-code', data: `[4,"up-${rng.int(1, 50)}",${JSON.stringify(code)},"fuzz",{}]` }];
    },
  };

  // Heavier weights where the defects hide; closing categories are rarer so links live long enough to matter.
  const weights: Partial<Record<Category, number>> = { 'invalid-utf8': 0.15, binary: 0.15, oversize: 0.15, 'huge-string': 0.6, 'deep-head': 0.8, 'deep-nesting': 1.2, 'inherited-action': 1.2 };
  const table = categories.map((c) => ({ c, w: weights[c] ?? 1 }));
  const total = table.reduce((s, e) => s + e.w, 0);
  return {
    next(ctx) {
      let r = rng.next() * total;
      for (const e of table) {
        r -= e.w;
        if (r <= 0) return build[e.c](ctx);
      }
      return build[(table[table.length - 1] as { c: Category }).c](ctx);
    },
  };
}

function randomText(rng: Rng, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(rng.chance(0.9) ? rng.int(0x20, 0x7e) : rng.int(0, 0xffff));
  return s;
}

/** How a hostile station answers a CALL from the central system: right, wrong, twice, late, or not at all. */
export function hostileAnswers(rng: Rng, id: string): { frames: string[]; holdBack: boolean } {
  const q = JSON.stringify(id);
  switch (rng.int(0, 9)) {
    case 0: case 1: case 2: return { frames: [`[3,${q},{}]`], holdBack: false };
    case 3: return { frames: [`[4,${q},"NotSupported","no",{}]`], holdBack: false };
    case 4: return { frames: [`[4,${q},${JSON.stringify(rng.pick(BAD_ERROR_CODES))},"bad code",{}]`], holdBack: false };
    case 5: return { frames: [`[3,${q},{}]`, `[3,${q},{}]`], holdBack: false };
    case 6: return { frames: [`[3,${JSON.stringify(`${id}-x`)},{}]`], holdBack: false };
    case 7: return { frames: [`[3,${q},{}]`], holdBack: true }; // answered after the next one: out of order
    case 8: return { frames: [`[3,${q},[]]`, `[4,${q},"GenericError","",null]`], holdBack: false };
    default: return { frames: [], holdBack: false };
  }
}
