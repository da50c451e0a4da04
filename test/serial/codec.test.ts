// The TypeScript codec against the shared vectors (the C++ codec is held to the same file in
// firmware-bridge/test/host_tests.cpp), plus randomised round trips through noise and arbitrary read splits.
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Decoder, encodeControl, encodeMessage, messageBytes, type Decoded } from '../../src/serial/codec.js';
import { FIRMWARE_BRIDGE } from './support/device.js';

type Bytes = string | { hex: string };
const toBuffer = (b: Bytes): Buffer => (typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b.hex, 'hex'));

interface Vectors {
  crc32: { input: string; crc: string }[];
  encode: { name: string; text: string; maxLine: number; msgNo: number; lines: Bytes[] }[];
  control: { name: string; kind: string; tokens: string[]; line: Bytes }[];
  decode: { name: string; maxLine: number; maxMessage: number; input: Bytes; events: Record<string, unknown>[] }[];
}
const vectors = JSON.parse(readFileSync(`${FIRMWARE_BRIDGE}/test/vectors.json`, 'utf8')) as Vectors;

function collect(maxLine: number, maxMessage: number): { decoder: Decoder; events: Decoded[] } {
  const events: Decoded[] = [];
  return { decoder: new Decoder({ maxLine, maxMessage }, (e) => events.push(e)), events };
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
    for (const c of vectors.crc32) expect(crc32(Buffer.from(c.input)).toString(16).padStart(8, '0')).toBe(c.crc);
  });

  it.each(vectors.encode)('encodes $name', (c) => {
    const lines = encodeMessage(messageBytes(c.text) as Buffer, c.maxLine, c.msgNo);
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
      const { decoder, events } = collect(c.maxLine, c.maxMessage);
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

  it('every message survives interleaved log text and random read splits, in order', () => {
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
      parts.push(...encodeMessage(messageBytes(text) as Buffer, 128 + Math.floor(rand() * 400), i));
    }
    const all = Buffer.concat(parts);
    const { decoder, events } = collect(600, 8192);
    for (let i = 0; i < all.length; ) {
      const n = 1 + Math.floor(rand() * 300);
      decoder.push(all.subarray(i, i + n));
      i += n;
    }
    expect(events.filter((e) => e.type === 'corrupt')).toEqual([]);
    expect(events.flatMap((e) => (e.type === 'message' ? [e.text] : []))).toEqual(sent);
    expect(events.flatMap((e) => (e.type === 'text' ? [e.line] : []))).toEqual(logs);
  });

  it('a single flipped bit never yields a wrong message: it is dropped (counted) or, in the mark byte, becomes text', () => {
    const rand = rng(7);
    const text = '[2,"17","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging"}]';
    const line = encodeMessage(messageBytes(text) as Buffer, 512, 0)[0] as Buffer;
    const next = encodeMessage(messageBytes('[2,"18","Heartbeat",{}]') as Buffer, 512, 0)[0] as Buffer;
    for (let trial = 0; trial < 2000; trial++) {
      const bad = Buffer.from(line);
      const bit = Math.floor(rand() * (bad.length - 1) * 8); // never the final LF
      bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
      const { decoder, events } = collect(512, 8192);
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
