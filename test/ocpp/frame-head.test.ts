// readFrameHead: what the relay may conclude about a large frame from its first characters, and what it must leave
// to parseFrame. A wrong "too long" or a wrong id here would refuse a frame that should pass.
import { describe, expect, it } from 'vitest';
import { readFrameHead } from '../../src/ocpp/frame-head.js';
import { MAX_ECHOED_ID_LENGTH, parseFrame } from '../../src/ocpp/frames.js';
import { clipBytes } from '../../src/ocpp/wire-text.js';

const head = (text: string) => readFrameHead(text);

describe('readFrameHead', () => {
  it('reads type and a plain id, with JSON whitespace', () => {
    expect(head('[2,"a1","Heartbeat",{}]')).toEqual({ type: 2, id: 'a1', idTooLong: false });
    expect(head(' \n[ 3 ,\t"r-1" ,{}]')).toEqual({ type: 3, id: 'r-1', idTooLong: false });
    expect(head('[4,"ÿé😀","GenericError","",{}]')).toEqual({ type: 4, id: 'ÿé😀', idTooLong: false });
  });

  it('leaves every head it cannot read plainly to parseFrame', () => {
    for (const text of ['[2.0,"a","Heartbeat",{}]', '[2e0,"a","Heartbeat",{}]', '[23,"a"]', '[5,"a"]', '{"a":1}', '[[2],"a"]', 'x', '', '[2"a"]']) {
      expect(head(text), text).toBeUndefined();
    }
    // A head whose id is not a plain string: the type is known, the id is not.
    for (const text of ['[2,5,"Heartbeat",{}]', '[3,"a\\"b",{}]', '[3,"",{}]', `[3,"${'i'.repeat(37)}",{}]`, '[2,[[[[',  '[3,"unterminated']) {
      const h = head(text);
      expect(h?.id, text).toBeUndefined();
      expect(h?.idTooLong, text).toBe(false);
    }
  });

  it('calls an id too long only when no escape can make it short enough to echo', () => {
    const longest = `[2,"${'\\u0041'.repeat(MAX_ECHOED_ID_LENGTH)}","Heartbeat",{}]`; // 128 characters, 768 bytes
    expect(head(longest)?.idTooLong).toBe(false);
    expect(parseFrame(longest)).toMatchObject({ ok: false, problem: { messageId: 'A'.repeat(MAX_ECHOED_ID_LENGTH) } });
    expect(head(`[2,"${'\\u0041'.repeat(MAX_ECHOED_ID_LENGTH)}A","Heartbeat",{}]`)?.idTooLong).toBe(true);
    expect(head(`[2,"${'ÿx'.repeat(200_000)}","Heartbeat",{}]`)).toEqual({ type: 2, idTooLong: true });
    expect(head(`[4,"${'x'.repeat(800)}`)).toEqual({ type: 4, idTooLong: true }); // unterminated, but already too long
  });
});

describe('clipBytes', () => {
  it('decodes only the start of a long frame, never half a character, and names its size in bytes', () => {
    const bytes = Buffer.from(`[2,"${'ÿ'.repeat(10_000)}"]`);
    const clipped = clipBytes(bytes, 4096);
    expect(clipped).toBe(`[2,"${'ÿ'.repeat(2046)}… [${bytes.length} bytes in all]`);
    expect(clipBytes(Buffer.from('[3,"a",{}]'), 4096)).toBe('[3,"a",{}]');
  });
});
