// The serial line codec (docs/serial-protocol.md §2–4, §7): OCPP-J messages and control lines to bytes and back,
// in protocol version 1 or 2. Pure: no ports, no timers. firmware-bridge/src/cbridge_codec.* is the same state machine in C++; both are
// checked against firmware-bridge/test/vectors.json.
import { crc32 } from 'node:zlib';
import { CHUNK_MSG_MODULO, CR, Kind, LF, MARK } from './protocol.js';

export type CorruptReason = 'syntax' | 'crc' | 'length' | 'overflow' | 'sequence' | 'too-big';

export type Decoded =
  | { readonly type: 'text'; readonly line: string }
  | { readonly type: 'message'; readonly text: string }
  | { readonly type: 'control'; readonly kind: string; readonly args: readonly string[]; readonly fields: Readonly<Record<string, string>> }
  | { readonly type: 'corrupt'; readonly reason: CorruptReason; readonly detail: string };

const STAR = 0x2a;
const SPACE = 0x20;
/** MARK + kind + '*' + 8 hex digits: the shortest version 1 frame line. */
const MIN_FRAME = 11;
const TAIL = 9;
/** Version 2 data lines: MARK + kind + a digit + '*' + 6 base64url characters at the least. */
const MIN_FRAME_V2 = 10;
const TAIL_V2 = 7;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** CRC-32 as 6 base64url characters: its 4 bytes big-endian, unpadded; the last character's low 4 bits are 0. */
function b64crc(n: number): string {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0);
  return b.toString('base64url');
}

/** Value of a base64url character, or -1. */
function b64value(b: number): number {
  if (b >= 0x41 && b <= 0x5a) return b - 0x41;
  if (b >= 0x61 && b <= 0x7a) return b - 0x61 + 26;
  if (b >= 0x30 && b <= 0x39) return b - 0x30 + 52;
  if (b === 0x2d) return 62;
  if (b === 0x5f) return 63;
  return -1;
}

function digits(n: number): number {
  return String(n).length;
}

/**
 * The bytes of one frame line: body (starting with MARK) + '*' + CRC-32 + LF. The CRC is 8 lowercase hex digits
 * in version 1 and 6 base64url characters in version 2.
 */
function seal(body: Buffer, version: number): Buffer {
  const crc = crc32(body);
  return Buffer.concat([body, Buffer.from(`*${version >= 2 ? b64crc(crc) : hex8(crc)}\n`, 'latin1')]);
}

/**
 * The bytes of a message as sent: UTF-8, with CR and LF turned into spaces (in valid JSON they can only be
 * whitespace between tokens, so the meaning is unchanged). Undefined when the text holds a MARK byte, which no
 * valid JSON does.
 */
export function messageBytes(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === MARK) return undefined;
    if (b === CR || b === LF) bytes[i] = SPACE;
  }
  return bytes;
}

/** Bytes an M line adds to a message apart from the length digits: v1 MARK M SP SP * 8hex, v2 MARK M SP * 6b64. */
function messageOverhead(version: number): number {
  return version >= 2 ? 10 : 13;
}

/** Longest message that still fits one M line of `maxLine` bytes. */
export function fitsOneLine(length: number, maxLine: number, version: number): boolean {
  return length + digits(length) + messageOverhead(version) <= maxLine;
}

/**
 * Encodes one message as frame lines of protocol `version` no longer than `maxLine` bytes (LF not counted): one
 * M line when it fits, else C chunks numbered `msgNo`.
 */
export function encodeMessage(payload: Buffer, maxLine: number, msgNo: number, version: number): Buffer[] {
  const total = payload.length;
  // Version 2 drops the space after the kind letter; the numbers that follow keep theirs.
  const sp = version >= 2 ? '' : ' ';
  if (fitsOneLine(total, maxLine, version)) {
    return [seal(Buffer.concat([Buffer.from(`\x1e${Kind.message}${sp}${total} `, 'latin1'), payload]), version)];
  }
  const msg = msgNo % CHUNK_MSG_MODULO;
  const room = maxLine - messageOverhead(version) - 3 - digits(msg) - 3 * digits(total);
  if (room < 1) throw new RangeError(`line limit ${maxLine} is too small to carry a chunk`);
  const lines: Buffer[] = [];
  for (let off = 0; off < total; off += room) {
    const part = payload.subarray(off, Math.min(total, off + room));
    lines.push(seal(Buffer.concat([Buffer.from(`\x1e${Kind.chunk}${sp}${msg} ${off} ${total} ${part.length} `, 'latin1'), part]), version));
  }
  return lines;
}

/**
 * Encodes a control line: kind letter and tokens ("key=value" or bare arguments), none containing spaces. Control
 * lines have the version 1 form in every version: hello, up and down must read the same before a version is agreed.
 */
export function encodeControl(kind: string, tokens: readonly string[] = []): Buffer {
  const body = tokens.length === 0 ? `\x1e${kind}` : `\x1e${kind} ${tokens.join(' ')}`;
  return seal(Buffer.from(body, 'latin1'), 1);
}

/** Reads a decimal number without sign or leading zeros from buf[start..), returns [value, next index] or undefined. */
function readNumber(buf: Buffer, start: number, end: number): [number, number] | undefined {
  let i = start;
  let n = 0;
  while (i < end && i - start < 10) {
    const b = buf[i] as number;
    if (b < 0x30 || b > 0x39) break;
    n = n * 10 + (b - 0x30);
    i++;
  }
  if (i === start || (buf[start] === 0x30 && i - start > 1) || n > 0xffffffff) return undefined;
  return [n, i];
}

function isLowerHex(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66);
}

export interface DecoderOptions {
  /** Longest frame line accepted (MARK through the last CRC digit); longer text lines are split. */
  readonly maxLine: number;
  /** Largest reassembled message. */
  readonly maxMessage: number;
  /** Highest protocol version whose lines are accepted; lines of every lower version are accepted too. */
  readonly version: number;
}

/**
 * Splits a byte stream into text lines, frames and control lines. A segment starts at MARK or after LF and ends
 * at the next MARK or LF, so log text that runs into a frame, and a frame whose LF was lost, are still told apart.
 */
export class Decoder {
  readonly #seg: Buffer;
  #len = 0;
  #isFrame = false;
  #discarding = false;
  // Chunk reassembly.
  #partial: { msg: number; total: number; parts: Buffer[]; got: number } | undefined;
  #skipMsg: number | undefined;

  constructor(
    private readonly options: DecoderOptions,
    private readonly emit: (item: Decoded) => void,
  ) {
    this.#seg = Buffer.allocUnsafe(options.maxLine);
  }

  push(chunk: Uint8Array): void {
    const max = this.options.maxLine;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (b === MARK || b === LF) {
        this.#finish();
        this.#isFrame = b === MARK;
        this.#discarding = false;
        this.#len = 0;
        if (b === MARK) this.#seg[this.#len++] = b;
        continue;
      }
      if (this.#discarding) continue;
      if (this.#len === max) {
        if (this.#isFrame) {
          this.#corrupt('overflow', `frame line longer than ${max} bytes`);
          this.#discarding = true;
          continue;
        }
        this.#emitText(this.#len);
        this.#len = 0;
      }
      this.#seg[this.#len++] = b;
    }
  }

  #finish(): void {
    if (this.#discarding) return;
    let len = this.#len;
    if (len > 0 && this.#seg[len - 1] === CR) len--;
    if (this.#isFrame) this.#decodeFrame(len);
    else if (len > 0) this.#emitText(len);
  }

  #emitText(len: number): void {
    this.emit({ type: 'text', line: this.#seg.toString('utf8', 0, len) });
  }

  #corrupt(reason: CorruptReason, detail: string): void {
    this.emit({ type: 'corrupt', reason, detail });
  }

  /**
   * The CRC tail: '*' + 8 lowercase hex (version 1) or '*' + 6 base64url (version 2). The two cannot both fit one
   * line: a version 1 tail has a hex digit where a version 2 tail has its '*'.
   */
  #tail(len: number): { version: number; want: number; end: number } | string {
    const seg = this.#seg;
    if (len >= MIN_FRAME && seg[len - TAIL] === STAR) {
      let want = 0;
      let hex = true;
      for (let i = len - 8; i < len && hex; i++) {
        const b = seg[i] as number;
        hex = isLowerHex(b);
        want = want * 16 + (b <= 0x39 ? b - 0x30 : b - 0x57);
      }
      if (hex) return { version: 1, want, end: len - TAIL };
    }
    if (this.options.version < 2 || len < MIN_FRAME_V2 || seg[len - TAIL_V2] !== STAR) return 'no *crc tail';
    let want = 0;
    for (let i = len - 6; i < len - 1; i++) {
      const v = b64value(seg[i] as number);
      if (v < 0) return 'crc is neither 8 lowercase hex digits nor 6 base64url characters';
      want = want * 64 + v;
    }
    // The last character carries the CRC's 2 lowest bits; its other 4 bits must be 0, so each CRC has one spelling.
    const last = b64value(seg[len - 1] as number);
    if (last < 0 || (last & 0x0f) !== 0) return 'crc is neither 8 lowercase hex digits nor 6 base64url characters';
    return { version: 2, want: want * 4 + (last >> 4), end: len - TAIL_V2 };
  }

  #decodeFrame(len: number): void {
    const seg = this.#seg;
    const tail = this.#tail(len);
    if (typeof tail === 'string') return this.#corrupt('syntax', tail);
    const { version, want, end } = tail;
    const got = crc32(seg.subarray(0, end));
    if (got !== want) return this.#corrupt('crc', `crc ${hex8(got)} != ${hex8(want)}`);
    const kind = seg[1] as number;
    if (kind < 0x41 || kind > 0x5a) return this.#corrupt('syntax', 'kind is not a capital letter');
    if (kind === 0x4d) return this.#decodeMessage(end, version);
    if (kind === 0x43) return this.#decodeChunk(end, version);
    if (version >= 2) return this.#corrupt('syntax', 'control lines have the version 1 form');
    this.#decodeControl(String.fromCharCode(kind), end);
  }

  /**
   * Reads " n1 n2 ... nk " from index 2 (version 2: "n1 n2 ... nk ", no space after the kind); returns the numbers
   * and the payload start.
   */
  #numbers(count: number, end: number, version: number): { nums: number[]; at: number } | undefined {
    const nums: number[] = [];
    let at = 2;
    for (let k = 0; k < count; k++) {
      if (k > 0 || version < 2) {
        if (this.#seg[at] !== SPACE) return undefined;
        at++;
      }
      const r = readNumber(this.#seg, at, end);
      if (!r) return undefined;
      nums.push(r[0]);
      at = r[1];
    }
    if (this.#seg[at] !== SPACE || at >= end) return undefined;
    return { nums, at: at + 1 };
  }

  #decodeMessage(end: number, version: number): void {
    const r = this.#numbers(1, end, version);
    if (!r) return this.#corrupt('syntax', 'M line is "M <length> <payload>"');
    const [length] = r.nums as [number];
    if (end - r.at !== length) return this.#corrupt('length', `M says ${length} bytes, carries ${end - r.at}`);
    if (length > this.options.maxMessage) return this.#corrupt('too-big', `message of ${length} bytes`);
    this.#abandonPartial();
    this.emit({ type: 'message', text: this.#seg.toString('utf8', r.at, end) });
  }

  #decodeChunk(end: number, version: number): void {
    const r = this.#numbers(4, end, version);
    if (!r) return this.#corrupt('syntax', 'C line is "C <msg> <offset> <total> <length> <payload>"');
    const [msg, off, total, length] = r.nums as [number, number, number, number];
    if (end - r.at !== length || length === 0 || off + length > total) {
      return this.#corrupt('length', `C says ${length} bytes at ${off} of ${total}, carries ${end - r.at}`);
    }
    const part = Buffer.from(this.#seg.subarray(r.at, end));
    if (off === 0) {
      this.#abandonPartial();
      this.#skipMsg = undefined;
      if (total > this.options.maxMessage) {
        this.#skipMsg = msg;
        return this.#corrupt('too-big', `message of ${total} bytes`);
      }
      this.#partial = { msg, total, parts: [], got: 0 };
    } else if (this.#skipMsg === msg) {
      return;
    }
    const p = this.#partial;
    if (!p || p.msg !== msg || p.total !== total || p.got !== off) {
      this.#partial = undefined;
      return this.#corrupt('sequence', `chunk ${msg}@${off} does not continue the message being assembled`);
    }
    p.parts.push(part);
    p.got += length;
    if (p.got === total) {
      this.#partial = undefined;
      this.emit({ type: 'message', text: Buffer.concat(p.parts, total).toString('utf8') });
    }
  }

  #abandonPartial(): void {
    if (!this.#partial) return;
    const { msg, got, total } = this.#partial;
    this.#partial = undefined;
    this.#corrupt('sequence', `message ${msg} abandoned after ${got} of ${total} bytes`);
  }

  #decodeControl(kind: string, end: number): void {
    const args: string[] = [];
    const fields: Record<string, string> = {};
    if (end > 2) {
      if (this.#seg[2] !== SPACE) return this.#corrupt('syntax', 'control kind must be followed by a space');
      for (const token of this.#seg.toString('latin1', 3, end).split(' ')) {
        if (token === '') return this.#corrupt('syntax', 'empty control token');
        const eq = token.indexOf('=');
        if (eq > 0) fields[token.slice(0, eq)] = token.slice(eq + 1);
        else args.push(token);
      }
    }
    this.emit({ type: 'control', kind, args, fields });
  }
}
