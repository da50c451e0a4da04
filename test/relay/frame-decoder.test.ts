// The large-frame decoder (src/relay/frame-decoder.ts): a real worker thread decodes and parses; whatever happens to
// the thread, every frame is answered exactly once, decoded in place if need be.
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/ocpp/frames.js';
import { COMPACT_STRING_CHARS, DECODER_MAX_IN_FLIGHT_BYTES, FrameDecoder, headView, type Decoded } from '../../src/relay/frame-decoder.js';

const frame = (data: string): Buffer => Buffer.from(`[2,"id-1","DataTransfer",{"vendorId":"v","data":${JSON.stringify(data)},"__proto__":{"polluted":true}}]`);
const decode = (d: FrameDecoder, bytes: Buffer): Promise<Decoded> => new Promise((resolve) => d.decode(bytes, resolve));

describe('the frame decoder', () => {
  it('decodes and parses on its thread what parseFrame would give, own "__proto__" keys included', async () => {
    const d = new FrameDecoder();
    try {
      const bytes = frame('ÿx'.repeat(100_000));
      const got = await decode(d, bytes);
      expect(got.offThread).toBe(true);
      expect(got.text).toBe(bytes.toString('utf8'));
      expect(got.parsed.ok).toBe(true);
      if (!got.parsed.ok || got.parsed.frame.type !== 2) throw new Error('not a call');
      const payload = got.parsed.frame.payload as Record<string, unknown>;
      expect(Object.hasOwn(payload, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
      expect((payload as { polluted?: unknown }).polluted).toBeUndefined();
      // A frame that does not parse comes back with parseFrame's problem.
      const bad = await decode(d, Buffer.from(`[2,"id-2","DataTransfer",{"data":"${'x'.repeat(70_000)}"`));
      expect(bad.parsed.ok).toBe(false);
      expect(d.stats).toMatchObject({ offThread: 2, inPlace: 0, inFlight: 0 });
    } finally {
      await d.close();
    }
  });

  it('decodes in place what the thread will not answer: closed with frames in flight, or too many bytes in flight', async () => {
    const d = new FrameDecoder();
    await decode(d, frame('warm-up'));
    const answers: Decoded[] = [];
    d.decode(frame('a'), (x) => answers.push(x));
    d.decode(frame('b'), (x) => answers.push(x));
    expect(d.stats.inFlight).toBe(2);
    await d.close();
    expect(answers.map((a) => [a.offThread, a.parsed.ok])).toEqual([[false, true], [false, true]]);
    // After close every frame is decoded in place, at once.
    let now: Decoded | undefined;
    d.decode(frame('c'), (x) => (now = x));
    expect(now?.offThread).toBe(false);

    const e = new FrameDecoder();
    try {
      const huge = Buffer.alloc(DECODER_MAX_IN_FLIGHT_BYTES / 2 + 1, 0x20);
      const first = decode(e, huge);
      let second: Decoded | undefined;
      e.decode(huge, (x) => (second = x));
      expect(second?.offThread).toBe(false);
      expect((await first).offThread).toBe(true);
    } finally {
      await e.close();
    }
  });
});

describe('headView: what the thread sends back when only a frame\'s head is wanted', () => {
  const long = 'L'.repeat(COMPACT_STRING_CHARS + 10);
  const text = JSON.stringify([2, 'h1', 'DataTransfer', { vendorId: 'v', data: long, list: [long, 'short', { deep: long }] }]);
  const parsed = parseFrame(text);
  const size = Buffer.byteLength(text);

  it('keeps the first bytes and the parse without the payload, or with its long strings cut', () => {
    const none = headView(text, parsed, { bytes: 1024, payload: 'none' }, size);
    expect(none.rawBytes).toBe(size);
    expect(none.text).toBe(text.slice(0, 1024));
    expect(none.parsed).toEqual({ ok: true, frame: { type: 2, id: 'h1', action: 'DataTransfer', payload: undefined } });
    const cut = 'L'.repeat(COMPACT_STRING_CHARS);
    const compactView = headView(text, parsed, { bytes: 1024, payload: 'compact' }, size);
    expect(compactView.parsed).toEqual({ ok: true, frame: { type: 2, id: 'h1', action: 'DataTransfer', payload: { vendorId: 'v', data: cut, list: [cut, 'short', { deep: cut }] } } });
  });

  it('keeps a "__proto__" key of the wire a key when it cuts the strings', () => {
    const wire = `[2,"p1","DataTransfer",{"vendorId":"v","__proto__":{"polluted":"${long}"}}]`;
    const view = headView(wire, parseFrame(wire), { bytes: 100, payload: 'compact' }, Buffer.byteLength(wire));
    const payload = (view.parsed.ok ? view.parsed.frame : undefined) as { payload: Record<string, unknown> } | undefined;
    expect(Object.getPrototypeOf(payload?.payload)).toBe(Object.prototype);
    expect(Object.keys(payload?.payload ?? {})).toEqual(['vendorId', '__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('gives a frame within the head back whole, and a CALLERROR its code and the start of its description', () => {
    expect(headView(text, parsed, { bytes: size, payload: 'none' }, size)).toEqual({ text, parsed });
    const error = JSON.stringify([4, 'e1', 'GenericError', long, { more: long }]);
    const view = headView(error, parseFrame(error), { bytes: 100, payload: 'compact' }, Buffer.byteLength(error));
    expect(view.parsed).toEqual({ ok: true, frame: { type: 4, id: 'e1', code: 'GenericError', description: 'L'.repeat(1024), details: undefined } });
  });
});
