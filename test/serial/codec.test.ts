// The TypeScript codec against the shared vectors (the C++ codec is held to the same file in
// firmware-bridge/test/host_tests.cpp), plus randomised round trips through noise and arbitrary read splits.
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Decoder, encodeControl, encodeMessage, fitsOneLine, messageBytes, type Decoded } from '../../src/serial/codec.js';
import { PROTOCOL_VERSION } from '../../src/serial/protocol.js';
import { FIRMWARE_BRIDGE } from './support/device.js';

type Bytes = string | { hex: string };
const toBuffer = (b: Bytes): Buffer => (typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b.hex, 'hex'));

interface Vectors {
  protocol: number;
  crc32: { input: string; crc: string; b64: string }[];
  encode: { name: string; version: number; text: string; maxLine: number; msgNo: number; lines: Bytes[] }[];
  control: { name: string; kind: string; tokens: string[]; line: Bytes }[];
  decode: { name: string; version: number; maxLine: number; maxMessage: number; input: Bytes; events: Record<string, unknown>[] }[];
}
const vectors = JSON.parse(readFileSync(`${FIRMWARE_BRIDGE}/test/vectors.json`, 'utf8')) as Vectors;

function collect(maxLine: number, maxMessage: number, version: number = PROTOCOL_VERSION): { decoder: Decoder; events: Decoded[] } {
  const events: Decoded[] = [];
  return { decoder: new Decoder({ maxLine, maxMessage, version }, (e) => events.push(e)), events };
}
function asVectorEvent(e: Decoded): Record<string, unknown> {
  if (e.type === 'text') return { text: e.line };
  if (e.type === 'message') return { message: e.text };
  if (e.type === 'control') return { control: e.kind, args: e.args, fields: e.fields };
  return { corrupt: e.reason };
}

describe('serial codec: shared vectors', () => {
  it('CRC-32 agrees with the check values', () => {
    expect(vectors.crc32.find((c) => c.input === '123456789')?.crc).toBe('cbf43926');
    expect(vectors.crc32.find((c) => c.input === '123456789')?.b64).toBe('y_Q5Jg');
    for (const c of vectors.crc32) {
      const crc = crc32(Buffer.from(c.input));
      expect(crc.toString(16).padStart(8, '0')).toBe(c.crc);
      // Version 2 spells the same 32 bits as 6 base64url characters, most significant first.
      expect(Buffer.from(c.b64, 'base64url').readUInt32BE(0)).toBe(crc);
    }
  });

  it('covers every version the gateway speaks, for encoding and decoding', () => {
    expect(vectors.protocol).toBe(PROTOCOL_VERSION);
    for (let v = 1; v <= PROTOCOL_VERSION; v++) {
      expect(vectors.encode.filter((c) => c.version === v).length, `encode v${v}`).toBeGreaterThanOrEqual(9);
      expect(vectors.decode.filter((c) => c.version === v).length, `decode v${v}`).toBeGreaterThanOrEqual(15);
    }
  });

  it.each(vectors.encode)('encodes $name', (c) => {
    const lines = encodeMessage(messageBytes(c.text) as Buffer, c.maxLine, c.msgNo, c.version);
    expect(lines.map((l) => l.toString('hex'))).toEqual(c.lines.map((l) => toBuffer(l).toString('hex')));
    for (const l of lines) expect(l.length - 1).toBeLessThanOrEqual(c.maxLine);
  });

  it.each(vectors.control)('encodes control line $name', (c) => {
    expect(encodeControl(c.kind, c.tokens).toString('hex')).toBe(toBuffer(c.line).toString('hex'));
  });

  it.each(vectors.decode)('decodes $name, whole and split at every byte', (c) => {
    const input = toBuffer(c.input);
    const want = c.events.map((e) => ('text' in e ? { text: toBuffer(e.text as Bytes).toString('utf8') } : e));
    for (const step of [input.length, 1, 7, 64]) {
      const { decoder, events } = collect(c.maxLine, c.maxMessage, c.version);
      for (let i = 0; i < input.length; i += step) decoder.push(input.subarray(i, i + step));
      expect(events.map(asVectorEvent), `step ${step}`).toEqual(want);
    }
  });
});

describe('serial codec: properties', () => {
  // A small deterministic generator, so a failure reproduces.
  function rng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 0x100000000;
    };
  }

  it('a version 2 message line costs 3 bytes less than version 1: 14 framing bytes for a 133-byte message', () => {
    const text = JSON.stringify([2, '1234567', 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: '2025-01-01T10:00:00.000Z' }]);
    const payload = messageBytes(text) as Buffer;
    expect(payload.length).toBe(133);
    const [v1] = encodeMessage(payload, 65_536, 0, 1) as [Buffer];
    const [v2] = encodeMessage(payload, 65_536, 0, 2) as [Buffer];
    expect(v1.length - payload.length).toBe(17);
    expect(v2.length - payload.length).toBe(14);
    expect(v2.subarray(0, 6).toString('latin1')).toBe('\x1eM133 ');
    expect(v2.toString('latin1')).toMatch(/\*[A-Za-z0-9_-]{5}[AQgw]\n$/);
    // The limits the encoder uses agree with the lines it makes.
    for (const version of [1, 2]) {
      const len = (encodeMessage(payload, 65_536, 0, version)[0] as Buffer).length - 1;
      expect(fitsOneLine(133, len, version)).toBe(true);
      expect(fitsOneLine(133, len - 1, version)).toBe(false);
      expect(encodeMessage(payload, len - 1, 0, version).length).toBeGreaterThan(1);
    }
  });

  it.each([1, 2])('every message survives interleaved log text and random read splits, in order (v%i)', (version) => {
    const rand = rng(42);
    const sent: string[] = [];
    const logs: string[] = [];
    const parts: Buffer[] = [];
    for (let i = 0; i < 400; i++) {
      if (rand() < 0.3) {
        const line = `I (${i}) dbg: ${'x'.repeat(Math.floor(rand() * 80))} ü`;
        logs.push(line);
        parts.push(Buffer.from(line + (rand() < 0.5 ? '\r\n' : '\n')));
      }
      const text = JSON.stringify([2, String(i), 'DataTransfer', { vendorId: 'fc', data: 'é⚡'.repeat(Math.floor(rand() * 300)) }]);
      sent.push(text);
      parts.push(...encodeMessage(messageBytes(text) as Buffer, 128 + Math.floor(rand() * 400), i, version));
    }
    const all = Buffer.concat(parts);
    const { decoder, events } = collect(600, 8192, version);
    for (let i = 0; i < all.length; ) {
      const n = 1 + Math.floor(rand() * 300);
      decoder.push(all.subarray(i, i + n));
      i += n;
    }
    expect(events.filter((e) => e.type === 'corrupt')).toEqual([]);
    expect(events.flatMap((e) => (e.type === 'message' ? [e.text] : []))).toEqual(sent);
    expect(events.flatMap((e) => (e.type === 'text' ? [e.line] : []))).toEqual(logs);
  });

  it.each([1, 2])('a single flipped bit never yields a wrong message: it is dropped (counted) or, in the mark byte, becomes text (v%i)', (version) => {
    const rand = rng(7);
    const text = '[2,"17","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging"}]';
    const line = encodeMessage(messageBytes(text) as Buffer, 512, 0, version)[0] as Buffer;
    const next = encodeMessage(messageBytes('[2,"18","Heartbeat",{}]') as Buffer, 512, 0, version)[0] as Buffer;
    // Every bit of the line but the final LF, then random ones.
    const bits = Array.from({ length: (line.length - 1) * 8 }, (_, i) => i);
    for (let trial = 0; trial < 1000; trial++) bits.push(Math.floor(rand() * (line.length - 1) * 8));
    for (const bit of bits) {
      const bad = Buffer.from(line);
      bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
      // A v2 decoder reads both forms: the flipped line must not pass as either.
      const { decoder, events } = collect(512, 8192, PROTOCOL_VERSION);
      decoder.push(Buffer.concat([bad, next]));
      const messages = events.flatMap((e) => (e.type === 'message' ? [e.text] : []));
      expect(messages, `bit ${bit}`).toEqual(['[2,"18","Heartbeat",{}]']);
      if (bit >= 8) expect(events.filter((e) => e.type === 'corrupt'), `bit ${bit}`).toHaveLength(1);
    }
  });

  it('line breaks inside a message travel as spaces; a mark byte cannot be encoded', () => {
    expect(messageBytes('[3,"1",\n{}]')?.toString()).toBe('[3,"1", {}]');
    expect(messageBytes('[3,"1",{"a":"\x1e"}]')).toBeUndefined();
  });
});
