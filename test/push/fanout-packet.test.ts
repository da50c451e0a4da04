// The frame built once per fan-out must be exactly the WebSocket text frame a socket would build itself:
// FIN + text opcode, unmasked (server to client), the right length form, and "4" + the Socket.IO packet.
import { describe, expect, it } from 'vitest';
import { fanOutPacket } from '../../src/push/fanout-packet.js';

function decode(parts: readonly Buffer[]): { fin: boolean; opcode: number; masked: boolean; payload: string } {
  const b = Buffer.concat(parts);
  let len = b[1]! & 0x7f;
  let at = 2;
  if (len === 126) {
    len = b.readUInt16BE(2);
    at = 4;
  } else if (len === 127) {
    len = Number(b.readBigUInt64BE(2));
    at = 10;
  }
  expect(b.length).toBe(at + len);
  return { fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, masked: (b[1]! & 0x80) !== 0, payload: b.subarray(at).toString('utf8') };
}

describe('fanOutPacket', () => {
  it.each([
    ['short', '2["event",{"type":"status"}]'],
    ['over 125 bytes (16-bit length)', `2["event",{"info":"${'x'.repeat(300)}"}]`],
    ['over 64 KiB (64-bit length)', `2["event",{"info":"${'y'.repeat(70_000)}"}]`],
    ['multi-byte UTF-8', '2["summary",{"model":"Pro 60 Ah – ünïcode ⚡"}]'],
  ])('frames a %s packet as one unmasked final text frame of "4" + the packet', (_, text) => {
    const p = fanOutPacket(text);
    expect(p.text).toBe(text);
    expect(p.options.wsPreEncodedFrame).toBeDefined();
    expect(decode(p.options.wsPreEncodedFrame!)).toEqual({ fin: true, opcode: 1, masked: false, payload: `4${text}` });
  });
});
