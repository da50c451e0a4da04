// GET /api/messages over real HTTP on loopback: filters, cursor pages, 400s naming the parameter, JSONL and CSV exports.
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrameObservation, LogEntry } from '../../src/events/observations.js';
import { messagesRouter } from '../../src/api/messages-routes.js';
import { CSV_COLUMNS } from '../../src/log/csv.js';
import { allPages, obs, refusedObs, startLog, type TestLog } from './helpers.js';

const at = (iso: string): number => Date.parse(iso) * 1000;

/** RFC 4180 reader, written for the test: quoted fields may hold commas, quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += c;
  }
  if (field !== '' || row.length > 0) throw new Error('CSV does not end with CRLF');
  return rows;
}

describe('GET /api/messages', () => {
  let t: TestLog;
  let server: http.Server;
  let base: string;
  let all: LogEntry[]; // newest first
  const get = (query: string): Promise<Response> => fetch(`${base}/api/messages${query}`);
  const ids = async (query: string): Promise<number[]> => {
    const res = await get(query);
    expect(res.status, query).toBe(200);
    return ((await res.json()) as { entries: LogEntry[] }).entries.map((e) => e.id);
  };

  beforeAll(async () => {
    t = await startLog({ now: () => at('2025-03-02T12:00:00Z') / 1000 });
    const tricky = 'a,b "c"\r\nd\n€';
    const frames: FrameObservation[] = [];
    for (let i = 0; i < 30; i++) {
      const station = i % 3 === 0 ? 'CP,"odd"' : 'CP1';
      frames.push(
        obs({
          atUs: at('2025-03-01T23:00:00Z') + i * 240_000_000 + 123_456, // every 4 minutes, crossing midnight
          chargeBoxId: station,
          raw: JSON.stringify([2, `d${i}`, 'DataTransfer', i % 5 === 0 ? { data: tricky } : { vendorId: 'flash', data: tricky }]),
          action: 'DataTransfer',
          messageId: `d${i}`,
          direction: i % 2 === 0 ? 'in' : 'out',
          leg: i % 4 < 2 ? 'station' : 'upstream',
        }),
        obs({
          atUs: at('2025-03-01T23:00:00Z') + i * 240_000_000 + 200_000,
          chargeBoxId: station,
          raw: JSON.stringify([3, `d${i}`, { status: 'Accepted' }]),
          messageType: 'CALLRESULT',
          action: 'DataTransfer',
          messageId: `d${i}`,
          direction: 'out',
          origin: 'local-cs',
          disposition: 'local',
          rttMs: 1.25,
        }),
      );
    }
    frames.push(refusedObs('\u0000garbage,"\r\nline 2', { atUs: at('2025-03-02T01:00:00Z') }));
    await t.emit(...frames);
    const app = express();
    app.use('/api/messages', messagesRouter(t.log));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    all = await allPages(t.log);
    expect(all).toHaveLength(61);
  });

  afterAll(async () => {
    server.close();
    await t.log.stop();
  });

  it('returns the newest page with a cursor to the next', async () => {
    const res = await get('?limit=25');
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const first = (await res.json()) as { entries: LogEntry[]; nextCursor?: string };
    expect(first.entries.map((e) => e.id)).toEqual(all.slice(0, 25).map((e) => e.id));
    expect(first.nextCursor).toBeDefined();
    const seen = [...first.entries.map((e) => e.id)];
    let cursor = first.nextCursor;
    while (cursor) {
      const page = (await (await get(`?limit=25&cursor=${encodeURIComponent(cursor)}`)).json()) as { entries: LogEntry[]; nextCursor?: string };
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(all.map((e) => e.id));
    expect((await (await get('')).json()) as { entries: unknown[] }).toMatchObject({ entries: expect.any(Array) });
  });

  it('applies each filter given as query parameters', async () => {
    const want = (pred: (e: LogEntry) => boolean): number[] => all.filter(pred).map((e) => e.id);
    const cases: [string, (e: LogEntry) => boolean][] = [
      [`chargeBoxId=${encodeURIComponent('CP,"odd"')}`, (e) => e.chargeBoxId === 'CP,"odd"'],
      ['chargeBoxId=CP1&chargeBoxId=CPX', (e) => e.chargeBoxId === 'CP1'],
      ['action=DataTransfer&messageType=CALL', (e) => e.messageType === 'CALL'],
      ['direction=out', (e) => e.direction === 'out'],
      ['leg=upstream', (e) => e.leg === 'upstream'],
      ['messageType=CALLRESULT', (e) => e.messageType === 'CALLRESULT'],
      ['origin=local-cs', (e) => e.origin === 'local-cs'],
      ['disposition=refused', (e) => e.disposition === 'refused'],
      ['hasFindings=true', (e) => e.findings.length > 0],
      ['hasFindings=false', (e) => e.findings.length === 0],
      ['since=2025-03-02T00:00:00Z', (e) => e.time >= '2025-03-02T00:00:00'],
      // µs precision: the CALL at 23:04:00.123456 is inside, the one 1 µs later is not reached by until.
      ['since=2025-03-01T23:04:00.123456Z&until=2025-03-01T23:08:00.123456Z', (e) => e.atUs >= at('2025-03-01T23:04:00Z') + 123_456 && e.atUs <= at('2025-03-01T23:08:00Z') + 123_456],
    ];
    for (const [query, pred] of cases) {
      const expected = want(pred);
      expect(expected.length, query).toBeGreaterThan(0);
      expect(expected.length, query).toBeLessThan(all.length);
      expect(await ids(`?limit=1000&${query}`), query).toEqual(expected);
    }
    expect(await ids('?since=2025-03-01T23:04:00.123456Z&until=2025-03-01T23:08:00.123456Z&messageType=CALL')).toHaveLength(2);
  });

  it('answers a bad parameter with 400 naming it', async () => {
    const cases: [string, string][] = [
      ['?station=CP1', 'station'],
      ['?direction=sideways', 'direction'],
      ['?leg=middle', 'leg'],
      ['?messageType=CALLBACK', 'messageType'],
      ['?origin=nobody', 'origin'],
      ['?disposition=lost', 'disposition'],
      ['?since=yesterday', 'since'],
      ['?since=2025-03-02T00:00:00Z&since=2025-03-03T00:00:00Z', 'since'],
      ['?until=2025-03-01T00:00:00Z&since=2025-03-02T00:00:00Z', 'until'],
      ['?hasFindings=yes', 'hasFindings'],
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?limit=5x', 'limit'],
      ['?cursor=abc', 'cursor'],
      ['?format=xml', 'format'],
      ['?chargeBoxId=', 'chargeBoxId'],
    ];
    for (const [query, parameter] of cases) {
      const res = await get(query);
      expect(res.status, query).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; parameter: string; message: string } };
      expect(error.code, query).toBe('bad_request');
      expect(error.parameter, query).toBe(parameter);
      expect(error.message, query).toContain(parameter);
    }
  });

  it('exports JSON Lines: every matching entry, newest first, as the JSON API shows it', async () => {
    const res = await get('?format=jsonl');
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await res.text()).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l) as LogEntry)).toEqual(JSON.parse(JSON.stringify(all)));
    const some = (await (await get('?format=jsonl&chargeBoxId=CP1&limit=3')).text()).trim().split('\n');
    expect(some.map((l) => (JSON.parse(l) as LogEntry).id)).toEqual(all.filter((e) => e.chargeBoxId === 'CP1').slice(0, 3).map((e) => e.id));
  });

  it('exports CSV with a header row that parses back to the same values', async () => {
    const res = await get('?format=csv');
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const [header, ...rows] = parseCsv(await res.text());
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(all.length);
    rows.forEach((row, i) => {
      const e = all[i] as LogEntry;
      const cell = (name: (typeof CSV_COLUMNS)[number]): string => row[CSV_COLUMNS.indexOf(name)] ?? '<missing>';
      expect(row).toHaveLength(CSV_COLUMNS.length);
      expect(Number(cell('id'))).toBe(e.id);
      expect(cell('time')).toBe(e.time);
      expect(cell('chargeBoxId')).toBe(e.chargeBoxId);
      expect(cell('raw')).toBe(e.raw);
      expect(cell('messageType')).toBe(e.messageType ?? '');
      expect(cell('rttMs')).toBe(e.rttMs === undefined ? '' : String(e.rttMs));
      expect(cell('payload') === '' ? undefined : JSON.parse(cell('payload'))).toEqual(e.payload);
      expect(cell('findings') === '' ? [] : JSON.parse(cell('findings'))).toEqual(e.findings);
    });
    expect(rows.some((r) => r[CSV_COLUMNS.indexOf('raw')]?.includes('\r\n'))).toBe(true);
  });
});
