// parseFrame and the wire-text helpers on hostile input: any depth and size the frame limit allows, without
// throwing, recursing or quoting unbounded wire text.
import { describe, expect, it } from 'vitest';
import { toOcpp16Code } from '../../src/ocpp/errors.js';
import { MAX_ACTION_LENGTH, MAX_ECHOED_ID_LENGTH, MAX_FRAME_DEPTH, parseFrame, type FrameProblem } from '../../src/ocpp/frames.js';
import { clip, nestingExceeds } from '../../src/ocpp/wire-text.js';

const deepArray = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObject = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

function problemOf(text: string): FrameProblem {
  const parsed = parseFrame(text);
  if (parsed.ok) throw new Error(`expected a problem, parsed ${text.slice(0, 60)}`);
  return parsed.problem;
}

describe('nestingExceeds', () => {
  it('counts arrays and objects, not brackets inside strings or escaped quotes', () => {
    expect(nestingExceeds(deepArray(3), 3)).toBe(false);
    expect(nestingExceeds(deepArray(4), 3)).toBe(true);
    expect(nestingExceeds(deepObject(4), 3)).toBe(true);
    expect(nestingExceeds(`["${'['.repeat(1000)}"]`, 3)).toBe(false);
    expect(nestingExceeds(`["a\\"[[[[[[", "\\\\"]`, 3)).toBe(false);
    expect(nestingExceeds(`["\\\\", [[[[]]]]]`, 3)).toBe(true);
  });

  it('stops at the limit on 8 MiB of "["', () => {
    expect(nestingExceeds('['.repeat(8 * 1024 * 1024), MAX_FRAME_DEPTH)).toBe(true);
  });
});

describe('parseFrame', () => {
  it('refuses frames deeper than MAX_FRAME_DEPTH in every position, and accepts one at the limit', () => {
    const deep = deepArray(10_000);
    expect(problemOf(`[${deep},"t","Heartbeat",{}]`)).toMatchObject({ kind: 'too-deep', isCall: false });
    expect(problemOf(`[2,${deep},"Heartbeat",{}]`)).toMatchObject({ kind: 'too-deep', isCall: true });
    expect(problemOf(`[2,"a1",${deep},{}]`)).toMatchObject({ kind: 'too-deep', isCall: true, messageId: 'a1' });
    expect(problemOf(`[2, "p1" ,"DataTransfer",{"vendorId":"x","data":${deepObject(10_000)}}]`)).toMatchObject({ kind: 'too-deep', isCall: true, messageId: 'p1' });
    expect(problemOf(`[3,"r1",{"a":${deep}}]`)).toMatchObject({ kind: 'too-deep', isCall: false, messageId: 'r1' });
    expect(problemOf(`[4,"e1","GenericError","",{"a":${deep}}]`)).toMatchObject({ kind: 'too-deep', isCall: false, messageId: 'e1' });
    expect(problemOf(deep)).toMatchObject({ kind: 'too-deep', isCall: false });
    expect(problemOf('['.repeat(8 * 1024 * 1024))).toMatchObject({ kind: 'too-deep' });
    // The frame's own array and the payload are levels 1 and 2.
    const atLimit = `[2,"ok","DataTransfer",{"vendorId":"x","data":${deepArray(MAX_FRAME_DEPTH - 2)}}]`;
    expect(parseFrame(atLimit).ok).toBe(true);
    const overLimit = `[2,"no","DataTransfer",{"vendorId":"x","data":${deepArray(MAX_FRAME_DEPTH - 1)}}]`;
    expect(problemOf(overLimit)).toMatchObject({ kind: 'too-deep', messageId: 'no' });
    // Brackets inside strings are text.
    expect(parseFrame(`[2,"s","DataTransfer",{"vendorId":"x","data":"${'['.repeat(10_000)}"}]`).ok).toBe(true);
  });

  it('refuses long text that does not start like an array at once', () => {
    expect(problemOf(`x${'x'.repeat(8 * 1024 * 1024)}`)).toMatchObject({ kind: 'not-array' });
    expect(problemOf(`   ${deepObject(10_000)}`)).toMatchObject({ kind: 'not-array' });
    expect(problemOf('not json')).toMatchObject({ kind: 'not-json' }); // short text: parsed to say exactly what is wrong
  });

  it('keeps error messages short whatever the frame holds', () => {
    const big = 'x'.repeat(1_000_000);
    for (const text of [`not json ${big}`, `["${big}","id"]`, `[{"${big}":1},"id"]`, `[2,"${big}","Heartbeat",{}]`, `[${deepArray(50)},1]`]) {
      expect(problemOf(text).message.length).toBeLessThan(200);
    }
  });

  it('gives a CALL with an unreadable id the id to answer with, when it can be echoed', () => {
    expect(problemOf('[2,5,"Heartbeat",{}]')).toMatchObject({ kind: 'bad-message-id', isCall: true, messageId: '5' });
    expect(problemOf('[2,-1.5,"Heartbeat",{}]')).toMatchObject({ messageId: '-1.5' });
    expect(problemOf('[2,"","Heartbeat",{}]')).toMatchObject({ kind: 'bad-message-id', messageId: '' });
    const long = 'L'.repeat(MAX_ECHOED_ID_LENGTH);
    expect(problemOf(`[2,"${long}","Heartbeat",{}]`)).toMatchObject({ kind: 'bad-message-id', messageId: long });
    expect(problemOf(`[2,"${long}x","Heartbeat",{}]`).messageId).toBeUndefined();
    expect(problemOf('[2,null,"Heartbeat",{}]').messageId).toBeUndefined();
    expect(problemOf('[2,{"a":1},"Heartbeat",{}]').messageId).toBeUndefined();
    // Answers with bad ids match nothing: no id.
    expect(problemOf('[3,5,{}]').messageId).toBeUndefined();
    // Too deep, with a readable (echoable) id.
    expect(problemOf(`[2,7,"Heartbeat",{"a":${deepArray(100)}}]`)).toMatchObject({ kind: 'too-deep', messageId: '7' });
    expect(problemOf(`[2,"${'q'.repeat(40)}","Heartbeat",{"a":${deepArray(100)}}]`)).toMatchObject({ messageId: 'q'.repeat(40) });
  });


  it('refuses an action name longer than MAX_ACTION_LENGTH', () => {
    expect(parseFrame(`[2,"a","${'A'.repeat(MAX_ACTION_LENGTH)}",{}]`).ok).toBe(true);
    expect(problemOf(`[2,"a","${'A'.repeat(MAX_ACTION_LENGTH + 1)}",{}]`)).toMatchObject({ kind: 'bad-action', isCall: true, messageId: 'a' });
  });
});

describe('parseFrame on generated input', () => {
  it('never throws, and every problem message is short, on 20,000 mutated frames (fixed seed)', () => {
    let seed = 12;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const seeds = [
      '[2,"a1","Heartbeat",{}]',
      '[3,"a1",{"currentTime":"2026-01-01T00:00:00Z"}]',
      '[4,"a1","GenericError","x",{}]',
      '[2,"m","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"t","sampledValue":[{"value":"1"}]}]}]',
    ];
    const pieces = ['[', ']', '{', '}', '"', '\\', ',', ':', '2', '-1e999', 'null', '"__proto__"', '"constructor"', '\u0000', '\ud800', '[[[[[[[[[[', 'x'.repeat(300)];
    for (let i = 0; i < 20_000; i++) {
      let text = seeds[rnd(seeds.length)] as string;
      for (let m = rnd(4) + 1; m > 0; m--) {
        const at = rnd(text.length + 1);
        const op = rnd(3);
        const piece = pieces[rnd(pieces.length)] as string;
        text = op === 0 ? text.slice(0, at) + piece + text.slice(at) : op === 1 ? text.slice(0, at) + text.slice(at + rnd(5) + 1) : text.slice(0, at) + piece.repeat(rnd(200)) + text.slice(at);
      }
      const parsed = parseFrame(text);
      if (!parsed.ok) {
        expect(parsed.problem.message.length).toBeLessThan(200);
        if (parsed.problem.messageId !== undefined) expect(parsed.problem.messageId.length).toBeLessThanOrEqual(MAX_ECHOED_ID_LENGTH);
      } else {
        expect(JSON.stringify(parsed.frame)).toBeTypeOf('string'); // within the depth limit: serialisable
      }
    }
  });
});

describe('toOcpp16Code', () => {
  it('maps codes that are not OCPP 1.6 codes to one that is', () => {
    expect(toOcpp16Code('FormatViolation')).toBe('FormationViolation');
    expect(toOcpp16Code('OccurrenceConstraintViolation')).toBe('OccurenceConstraintViolation');
    expect(toOcpp16Code('NotSupported')).toBe('NotSupported');
    for (const other of ['', 'constructor', '__proto__', 'genericerror', 'x'.repeat(1000)]) expect(toOcpp16Code(other)).toBe('GenericError');
  });
});

describe('clip', () => {
  it('keeps short text and marks a cut with the full length, never splitting a surrogate pair', () => {
    expect(clip('abc', 3)).toBe('abc');
    expect(clip('abcd', 3)).toBe('abc… [4 characters in all]');
    expect(clip('ab😀', 3)).toBe('ab… [4 characters in all]');
  });
});
