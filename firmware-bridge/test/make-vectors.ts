// Writes vectors.json: encodings and decodings both codecs (src/serial/codec.ts and firmware-bridge/src) must
// reproduce. Encoded lines come from the TypeScript encoder; every decode case states its expected events by
// hand, and this script refuses to write the file if the TypeScript decoder disagrees with them.
// Run: npx tsx firmware-bridge/test/make-vectors.ts
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { crc32 } from 'node:zlib';
import { Decoder, encodeControl, encodeMessage, messageBytes, type Decoded } from '../../src/serial/codec.js';

type Bytes = string | { hex: string };
type Event =
  | { text: Bytes }
  | { message: string }
  | { control: string; args: string[]; fields: Record<string, string> }
  | { corrupt: string };

/** JSON-friendly bytes: a string when they are valid UTF-8, else hex. */
function bytes(b: Buffer): Bytes {
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : { hex: b.toString('hex') };
}
function toBuffer(b: Bytes): Buffer {
  return typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b.hex, 'hex');
}
const lf = (b: Buffer): Buffer => b.subarray(0, b.length - 1); // a line without its LF
function crcText(crc: number, version: number): string {
  if (version < 2) return crc.toString(16).padStart(8, '0');
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc);
  return b.toString('base64url');
}
/** A line sealed by hand with the CRC tail of `version` (control lines and malformed lines the encoder never makes). */
function seal(body: string, version = 1): Buffer {
  const buf = Buffer.from(body, 'utf8');
  return Buffer.concat([buf, Buffer.from(`*${crcText(crc32(buf), version)}\n`)]);
}
function msg(text: string, maxLine: number, msgNo: number, version: number): Buffer[] {
  return encodeMessage(messageBytes(text) as Buffer, maxLine, msgNo, version);
}
/** The same line with the crc character at `index` replaced by another one of its alphabet. */
function otherDigit(line: Buffer, index: number): Buffer {
  const copy = Buffer.from(line);
  copy[index] = copy[index] === 0x30 ? 0x31 : 0x30;
  return copy;
}
function flip(line: Buffer, index: number, bit = 0): Buffer {
  const copy = Buffer.from(line);
  copy[index] = (copy[index] as number) ^ (1 << bit);
  return copy;
}
/** The line with its last CRC character (before LF) replaced. */
function lastCrcChar(line: Buffer, char: string): Buffer {
  const copy = Buffer.from(line);
  copy[copy.length - 2] = char.charCodeAt(0);
  return copy;
}

const BOOT = '[2,"1","BootNotification",{"chargePointVendor":"flashCharge","chargePointModel":"FC-22"}]';
const HEARTBEAT = '[2,"2","Heartbeat",{}]';
const UNICODE = '[2,"7","DataTransfer",{"vendorId":"fc","data":"Grüße ⚡ 日本"}]';
const METER = JSON.stringify([2, '9', 'MeterValues', {
  connectorId: 1, transactionId: 42,
  meterValue: [{ timestamp: '2025-01-01T10:00:00.000Z', sampledValue: [
    { value: '1234.5', context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
    { value: '7200', context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
    { value: '31.9', context: 'Sample.Periodic', measurand: 'Current.Import', phase: 'L1', unit: 'A' },
    { value: '230.1', context: 'Sample.Periodic', measurand: 'Voltage', phase: 'L1-N', unit: 'V' },
    { value: '64', context: 'Sample.Periodic', measurand: 'SoC', unit: 'Percent' },
  ] }],
}]);
const LONG = '[2,"3","Heartbeat",{"x":"' + 'a'.repeat(200) + '"}]'; // 228 bytes
const VERSIONS = [1, 2] as const;
/** Bytes the M line of LONG takes without its LF: 228 + 3 length digits + 13 (v1) or 10 (v2). */
const longLine = (version: number): number => (version >= 2 ? 241 : 244);

const encodeCases = VERSIONS.flatMap((version) => [
  { name: 'boot notification, one line', text: BOOT, maxLine: 256, msgNo: 0 },
  { name: 'heartbeat', text: HEARTBEAT, maxLine: 256, msgNo: 0 },
  { name: 'utf-8 payload, length in bytes', text: UNICODE, maxLine: 256, msgNo: 0 },
  { name: 'line breaks become spaces', text: '[3,"5",\r\n{"status":"Accepted"}\n]', maxLine: 256, msgNo: 0 },
  { name: 'exactly fills the line limit', text: LONG, maxLine: longLine(version), msgNo: 0 },
  { name: 'one byte over the line limit: chunks', text: LONG, maxLine: longLine(version) - 1, msgNo: 0 },
  { name: 'meter values in 128-byte chunks', text: METER, maxLine: 128, msgNo: 3 },
  { name: 'chunks split a multi-byte character', text: UNICODE, maxLine: 40, msgNo: 7 },
  { name: 'chunk numbers wrap at 65536', text: METER, maxLine: 256, msgNo: 65537 },
].map((c) => ({ ...c, name: `v${version}: ${c.name}`, version, lines: msg(c.text, c.maxLine, c.msgNo, version).map(bytes) })));

// Control lines have one form in every version.
const controlCases = [
  { name: 'hello', kind: 'H', tokens: ['v=2', 'id=FC-BENCH-01', 'fw=0.1.0', 'rx=1024', 'mtu=512', 'max=8192'] },
  { name: 'up', kind: 'U', tokens: ['v=1', 'gw=0.1.0', 'mtu=65600', 'max=65536', 'ka=2000'] },
  { name: 'down', kind: 'D', tokens: ['reason=stopping'] },
  { name: 'keepalive', kind: 'K', tokens: [] },
  { name: 'ack', kind: 'A', tokens: ['4294967295'] },
].map((c) => ({ ...c, line: bytes(encodeControl(c.kind, c.tokens)) }));

const ka = encodeControl('K');
const ctl = (kind: string, args: string[] = [], fields: Record<string, string> = {}): Event => ({ control: kind, args, fields });
interface DecodeCase { name: string; version: number; maxLine: number; maxMessage: number; input: Buffer[]; events: Event[] }

/** The decode cases every version must pass, with lines in that version's form and a decoder of that version. */
function decodeCasesFor(version: number): DecodeCase[] {
  const v2 = version >= 2;
  const sp = v2 ? '' : ' '; // after the kind letter
  const boot = msg(BOOT, 256, 0, version)[0] as Buffer;
  const hb = msg(HEARTBEAT, 256, 0, version)[0] as Buffer;
  const meterChunks = msg(METER, 128, 3, version);
  const [c0, c1, c2, c3] = meterChunks as [Buffer, Buffer, Buffer, Buffer];
  const cases: Omit<DecodeCase, 'version'>[] = [
    {
      name: 'frames between boot noise and log lines, CRLF tolerated',
      maxLine: 256, maxMessage: 8192,
      input: [Buffer.from('ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET)\r\n'), boot, Buffer.from('I (123) wifi: off\n'), ka, Buffer.from(lf(hb).toString('latin1') + '\r\n')],
      events: [{ text: 'ets Jun  8 2016 00:22:57' }, { text: 'rst:0x1 (POWERON_RESET)' }, { message: BOOT }, { text: 'I (123) wifi: off' }, ctl('K'), { message: HEARTBEAT }],
    },
    {
      name: 'log text without LF runs into a frame',
      maxLine: 256, maxMessage: 8192,
      input: [Buffer.from('[dbg] relay=on'), boot],
      events: [{ text: '[dbg] relay=on' }, { message: BOOT }],
    },
    {
      name: 'a frame whose LF was lost, followed by a frame',
      maxLine: 256, maxMessage: 8192,
      input: [lf(boot), hb],
      events: [{ message: BOOT }, { message: HEARTBEAT }],
    },
    {
      name: 'bit flips: payload, length digit, crc digit, kind; each dropped, next frame intact',
      maxLine: 256, maxMessage: 8192,
      input: [flip(boot, 40), hb, flip(boot, v2 ? 3 : 4, 0), otherDigit(boot, boot.length - 3), flip(boot, 1, 5), hb],
      events: [{ corrupt: 'crc' }, { message: HEARTBEAT }, { corrupt: 'crc' }, { corrupt: 'crc' }, { corrupt: 'crc' }, { message: HEARTBEAT }],
    },
    {
      name: 'a crc character outside its alphabet is a syntax error',
      maxLine: 256, maxMessage: 8192,
      input: [lastCrcChar(hb, v2 ? '!' : 'G'), hb],
      events: [{ corrupt: 'syntax' }, { message: HEARTBEAT }],
    },
    {
      name: 'length field disagrees with the payload (crc intact)',
      maxLine: 256, maxMessage: 8192,
      input: [seal(`\x1eM${sp}10 [2,"1"]`, version), seal(`\x1eM${sp}7 [2,"1"]`, version)],
      events: [{ corrupt: 'length' }, { message: '[2,"1"]' }],
    },
    {
      name: 'syntax errors: truncated frame, bad numbers, lowercase kind, empty control token',
      maxLine: 256, maxMessage: 8192,
      input: [Buffer.from(`\x1eM${sp}25 [2,"1","Heart\n`), seal(`\x1eM${sp}x [2]`, version), seal(`\x1eM${sp}03 [2]`, version), seal(`\x1em${sp}3 [2]`, version), seal('\x1eD  reason=x'), seal(`\x1eM${sp}3`, version)],
      events: [{ corrupt: 'syntax' }, { corrupt: 'syntax' }, { corrupt: 'syntax' }, { corrupt: 'syntax' }, { corrupt: 'syntax' }, { corrupt: 'syntax' }],
    },
    {
      name: 'garbage from a baud mismatch, with and without a stray mark byte',
      maxLine: 256, maxMessage: 8192,
      input: [Buffer.from('f0e0fe00ff80c3280a', 'hex'), Buffer.from('fc1ef8e00a', 'hex'), boot],
      events: [{ text: { hex: 'f0e0fe00ff80c328' } }, { text: { hex: 'fc' } }, { corrupt: 'syntax' }, { message: BOOT }],
    },
    {
      name: 'line limit: long text is split, an over-long frame is dropped until the next line',
      maxLine: 64, maxMessage: 8192,
      input: [Buffer.from('x'.repeat(150) + '\n'), boot, msg(HEARTBEAT, 64, 0, version)[0] as Buffer],
      events: [{ text: 'x'.repeat(64) }, { text: 'x'.repeat(64) }, { text: 'x'.repeat(22) }, { corrupt: 'overflow' }, { message: HEARTBEAT }],
    },
    {
      name: 'chunks with log text, keepalive and ack between them',
      maxLine: 128, maxMessage: 8192,
      input: [c0, Buffer.from('I (900) meter: 7.2 kW\n'), c1, ka, c2, encodeControl('A', ['512']), c3, ...meterChunks.slice(4)],
      events: [{ text: 'I (900) meter: 7.2 kW' }, ctl('K'), ctl('A', ['512']), { message: METER }],
    },
    {
      name: 'a lost chunk: the rest of that message is dropped, the next message arrives',
      maxLine: 128, maxMessage: 8192,
      input: [c0, c2, c3, hb],
      events: [{ corrupt: 'sequence' }, { corrupt: 'sequence' }, { message: HEARTBEAT }],
    },
    {
      name: 'a whole message interrupts an unfinished one',
      maxLine: 128, maxMessage: 8192,
      input: [c0, c1, hb, c0, ...meterChunks.slice(1)],
      events: [{ corrupt: 'sequence' }, { message: HEARTBEAT }, { message: METER }],
    },
    {
      name: 'messages over the size limit: whole and chunked, each counted once',
      maxLine: 128, maxMessage: 80,
      input: [...msg(BOOT, 128, 0, version), ...meterChunks, hb],
      events: [{ corrupt: 'too-big' }, { corrupt: 'too-big' }, { message: HEARTBEAT }],
    },
    {
      name: 'control lines: fields, bare arguments, unknown kinds are passed on',
      maxLine: 256, maxMessage: 8192,
      input: [encodeControl('H', ['v=1', 'id=CB=1', 'fw=0.1.0', 'rx=1024']), encodeControl('Z', ['future=yes', 'x'])],
      events: [ctl('H', [], { v: '1', id: 'CB=1', fw: '0.1.0', rx: '1024' }), ctl('Z', ['x'], { future: 'yes' })],
    },
    {
      name: 'utf-8 message split across chunks',
      maxLine: 40, maxMessage: 8192,
      input: msg(UNICODE, 40, 7, version),
      events: [{ message: UNICODE }],
    },
  ];
  return cases.map((c) => ({ ...c, name: `v${version}: ${c.name}`, version }));
}

const bootV1 = msg(BOOT, 256, 0, 1)[0] as Buffer;
const bootV2 = msg(BOOT, 256, 0, 2)[0] as Buffer;
const hbV1 = msg(HEARTBEAT, 256, 0, 1)[0] as Buffer;
const hbV2 = msg(HEARTBEAT, 256, 0, 2)[0] as Buffer;
const meterV1 = msg(METER, 128, 3, 1);
const meterV2 = msg(METER, 128, 3, 2);

const decodeCases: DecodeCase[] = [
  ...decodeCasesFor(1),
  ...decodeCasesFor(2),
  {
    name: 'v2 decoder: reads version 1 lines too, whole and chunked, mixed with version 2 lines',
    version: 2, maxLine: 128, maxMessage: 8192,
    input: [bootV1, hbV2, ...meterV1, bootV2, ...meterV2, hbV1],
    events: [{ message: BOOT }, { message: HEARTBEAT }, { message: METER }, { message: BOOT }, { message: METER }, { message: HEARTBEAT }],
  },
  {
    name: 'v1 decoder: version 2 lines are syntax errors, as in firmware that predates them; version 1 lines around them arrive',
    version: 1, maxLine: 128, maxMessage: 8192,
    input: [bootV2, hbV1, ...meterV2, hbV1],
    events: [{ corrupt: 'syntax' }, { message: HEARTBEAT }, ...meterV2.map((): Event => ({ corrupt: 'syntax' })), { message: HEARTBEAT }],
  },
  {
    name: 'v2 decoder: a crc whose last character has padding bits set is a syntax error (one spelling per crc)',
    version: 2, maxLine: 256, maxMessage: 8192,
    // hbV2 ends in a character whose low 4 bits are 0; the next character of the alphabet sets the lowest.
    input: [lastCrcChar(hbV2, String.fromCharCode((hbV2[hbV2.length - 2] as number) + 1)), hbV2],
    events: [{ corrupt: 'syntax' }, { message: HEARTBEAT }],
  },
  {
    name: 'v2 decoder: the v2 tail is for M and C lines without a space after the kind; anything else is a syntax error',
    version: 2, maxLine: 256, maxMessage: 8192,
    input: [seal('\x1eM 7 [2,"1"]', 2), seal('\x1eK', 2), seal('\x1eA 512', 2), seal('\x1eC0 0 7 7 [2,"1"]', 2), hbV2],
    events: [{ corrupt: 'syntax' }, { corrupt: 'syntax' }, { corrupt: 'syntax' }, { message: '[2,"1"]' }, { message: HEARTBEAT }],
  },
];

// The TypeScript decoder must agree with every hand-written expectation, fed whole and byte by byte.
function run(c: DecodeCase, step: number): Event[] {
  const out: Event[] = [];
  const d = new Decoder({ maxLine: c.maxLine, maxMessage: c.maxMessage, version: c.version }, (e: Decoded) => {
    if (e.type === 'text') out.push({ text: bytes(Buffer.from(e.line, 'utf8')) });
    else if (e.type === 'message') out.push({ message: e.text });
    else if (e.type === 'control') out.push({ control: e.kind, args: [...e.args], fields: { ...e.fields } });
    else out.push({ corrupt: e.reason });
  });
  const all = Buffer.concat(c.input);
  for (let i = 0; i < all.length; i += step) d.push(all.subarray(i, i + step));
  return out;
}
const normalise = (events: Event[]): Event[] =>
  events.map((e) => ('text' in e ? { text: bytes(Buffer.from(toBuffer(e.text).toString('utf8'), 'utf8')) } : e));
for (const c of decodeCases) {
  for (const step of [1_000_000, 1, 7]) {
    const got = run(c, step);
    if (!isDeepStrictEqual(got, normalise(c.events))) {
      throw new Error(`decode case "${c.name}" (step ${step}):\n got ${JSON.stringify(got)}\nwant ${JSON.stringify(c.events)}`);
    }
  }
}

const vectors = {
  protocol: 2,
  note: 'Generated by make-vectors.ts. Strings are UTF-8 bytes; {"hex": ...} is raw bytes. Lines include their LF. "version": the form encoded (encode) or the highest form the decoder accepts (decode). crc: version 1 spelling (hex); b64: version 2 spelling (base64url).',
  crc32: ['123456789', '', '\x1eK', BOOT].map((input) => {
    const crc = crc32(Buffer.from(input, 'utf8'));
    return { input, crc: crcText(crc, 1), b64: crcText(crc, 2) };
  }),
  encode: encodeCases,
  control: controlCases,
  decode: decodeCases.map((c) => ({ ...c, input: bytes(Buffer.concat(c.input)) })),
};
writeFileSync(new URL('./vectors.json', import.meta.url), JSON.stringify(vectors, null, 1) + '\n');
console.log(`wrote ${encodeCases.length} encode, ${controlCases.length} control, ${decodeCases.length} decode vectors`);
