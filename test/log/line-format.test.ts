// The day file's line: a JSON frame's text stands in the line as it came (after `,"frame":`), any other text is the
// string `raw`, escaped by the writer straight into its buffer exactly as JSON.stringify would. Lines of both kinds, and lines written before the frame stood in them, read back to the same entry;
// a torn line of either kind is skipped, also when the index is rebuilt from the lines.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/events/observations.js';
import { encodeLine, fromLine, lineText, toLogEntry } from '../../src/log/entry.js';
import { escapedBytes, writeEscaped } from '../../src/log/json-string.js';
import { obs, refusedObs, startLog, tempDir } from './helpers.js';

const at = (iso: string): number => Date.parse(iso) * 1000;
const march2 = { now: () => at('2025-03-02T12:00:00Z') / 1000 };
const withoutPayload = ({ payload: _p, ...rest }: LogEntry): Omit<LogEntry, 'payload'> => rest;

describe('a day file line', () => {
  it('carries a JSON frame as it came, and reads back to the same entry', () => {
    // Spacing, escapes and a key order JSON.stringify would not keep: only the text as it came gives them back.
    const raw = '[2, "m1","DataTransfer",{"vendorId":"V","data":"a \\"quoted\\" \\u00e9 \u2028 line","messageId":"x"}]';
    const entry = toLogEntry(obs({ raw, action: 'DataTransfer', messageId: 'm1' }), 7);
    const encoded = encodeLine(entry);
    expect(encoded).toMatchObject({ kind: 'frame', text: raw });
    const line = lineText(encoded);
    expect(line.endsWith(`,"frame":${raw}}`)).toBe(true);
    expect((JSON.parse(line) as { frame: unknown }).frame).toEqual(JSON.parse(raw));
    expect(fromLine(line)).toEqual(entry);
  });

  it('keeps as an escaped string what cannot stand in the line as it is', () => {
    const cases = [
      refusedObs('[2,"g1","Heart'), // not JSON
      obs({ raw: '[2,"m2",\n"Heartbeat",{}]', messageId: 'm2' }), // JSON, but over two lines
      obs({ raw: '[2,"m3","DataTransfer",{"vendorId":"V","data":"\ud800"}]', action: 'DataTransfer', messageId: 'm3' }), // a lone surrogate
    ];
    for (const o of cases) {
      const entry = toLogEntry(o, 1);
      const encoded = encodeLine(entry);
      expect(encoded.kind).toBe(o.raw.isWellFormed() ? 'raw' : 'whole');
      const line = lineText(encoded);
      expect(line).not.toContain('\n');
      expect((JSON.parse(line) as LogEntry).raw).toBe(o.raw);
      expect(fromLine(line)).toEqual(entry);
    }
    // A frame cut short for its size is text too: its first part is not JSON.
    const big = toLogEntry(obs({ raw: JSON.stringify([2, 'm4', 'DataTransfer', { vendorId: 'V', data: 'x'.repeat(2000) }]) }), 1, 1024);
    expect(encodeLine(big).kind).toBe('raw');
    expect(fromLine(lineText(encodeLine(big)))).toEqual(big);
  });

  it('escapes text into a buffer byte for byte as JSON.stringify does', () => {
    // Every code unit below 0x80, multi-byte characters, a surrogate pair, and random mixes of them.
    const ascii = Array.from({ length: 0x80 }, (_, c) => String.fromCharCode(c)).join('');
    let seed = 7;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const pieces = ['"', '\\', '\n', '\u0000', '\u001f', 'é', '\u2028', '€', '😀', 'a', '\u007f', '\\"'];
    const texts = [ascii, '', 'plain', '😀"é\\', ...Array.from({ length: 200 }, () => Array.from({ length: rnd(60) }, () => pieces[rnd(pieces.length)]).join(''))];
    for (const text of texts) {
      const bytes = escapedBytes(text);
      const expected = Buffer.from(JSON.stringify(text).slice(1, -1));
      expect(bytes).toBe(expected.length);
      const buf = Buffer.alloc(bytes + 4, 0xee);
      writeEscaped(buf, 2, text, bytes);
      expect(buf.subarray(2, 2 + bytes).equals(expected), JSON.stringify(text)).toBe(true);
      expect([buf[0], buf[1], buf[bytes + 2], buf[bytes + 3]]).toEqual([0xee, 0xee, 0xee, 0xee]);
    }
  });

  it('tells a torn line from a whole one, even when the tear leaves a closing brace', () => {
    const raw = '[2,"m5","DataTransfer",{"vendorId":"V","data":{"a":{"b":1}}}]';
    const line = lineText(encodeLine(toLogEntry(obs({ raw, action: 'DataTransfer', messageId: 'm5' }), 1)));
    for (const cut of [line.length - 1, line.length - 2, line.length - 3, line.indexOf(',"frame":') + 12]) {
      expect(() => fromLine(line.slice(0, cut)), `cut at ${cut}`).toThrow();
    }
  });

  it('reads lines of the earlier layout (the text always an escaped string)', () => {
    const entry = toLogEntry(obs({ raw: JSON.stringify([2, 'm6', 'Heartbeat', {}]), messageId: 'm6' }), 3);
    const earlier = JSON.stringify({ ...entry, payload: undefined });
    expect(fromLine(earlier)).toEqual(entry);
  });

  it('is what the files hold: queries, a rebuilt index and a torn last line agree with what was logged', async () => {
    const dataDir = tempDir();
    const a = await startLog({ dataDir, ...march2 });
    const frames = [
      obs({ atUs: at('2025-03-01T10:00:00Z'), raw: '[2,"j1","Heartbeat",{ }]', messageId: 'j1' }),
      refusedObs('not "json" \\ at\tall\u0001 é 😀', { atUs: at('2025-03-01T10:00:01Z') }),
      obs({ atUs: at('2025-03-01T10:00:02Z'), raw: '[2,"j3","Heartbeat",\n{}]', messageId: 'j3' }),
      obs({ atUs: at('2025-03-01T10:00:03Z'), leg: 'upstream', origin: 'steve', raw: '[3,"j1",{"currentTime":"2025-03-01T10:00:03Z"}]', messageType: 'CALLRESULT', messageId: 'j1' }),
    ];
    const logged = await a.emit(...frames);
    await a.log.stop();
    const dir = path.join(dataDir, 'messages');
    const file = path.join(dir, '2025-03-01.jsonl');
    const written = readFileSync(file, 'utf8').trim().split('\n');
    expect(written).toEqual(logged.map((e) => lineText(encodeLine(e))));
    expect(written.map((l) => (JSON.parse(l) as { raw?: string }).raw)).toEqual([undefined, frames[1]?.raw, frames[2]?.raw, undefined]);

    // The last line torn after its frame's first closing brace, and the index gone: rebuilt from the lines.
    const text = readFileSync(file, 'utf8');
    appendFileSync(file, lineText(encodeLine(toLogEntry(obs({ atUs: at('2025-03-01T10:00:04Z'), raw: '[2,"j5","Heartbeat",{}]', messageId: 'j5' }), 5))).slice(0, -2));
    rmSync(path.join(dir, '2025-03-01.v1.idx'));
    const b = await startLog({ dataDir, ...march2 });
    const read = (await b.log.query({})).entries;
    expect(read.map((e) => e.raw)).toEqual([...frames].reverse().map((f) => f.raw));
    expect(read.map(withoutPayload)).toEqual([...logged].reverse().map(withoutPayload));
    expect(read.map((e) => e.payload)).toEqual([...logged].reverse().map((e) => e.payload));
    await b.emit(obs({ atUs: at('2025-03-01T11:00:00Z'), messageId: 'after' }));
    await b.log.stop();
    expect(readFileSync(file, 'utf8').startsWith(text)).toBe(true);
    const c = await startLog({ dataDir, ...march2 });
    expect((await c.log.query({})).entries.map((e) => e.messageId)).toEqual(['after', 'j1', 'j3', undefined, 'j1']);
    await c.log.stop();
  });
});
