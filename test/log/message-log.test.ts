// The message log against real files in temp dirs: entries and findings, restarts, crashes, rotation, retention,
// filters, pagination and the drop counter.
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { FrameObservation, LogEntry } from '../../src/events/observations.js';
import { allPages, obs, refusedObs, startLog, tempDir, until } from './helpers.js';
import { BATCH_CHARS, entryCost } from '../../src/log/index.js';

const run = promisify(execFile);
const at = (iso: string): number => Date.parse(iso) * 1000;
/** The fixed-date tests run "on" 2 March 2025, so retention keeps their files. */
const march2 = { now: () => at('2025-03-02T12:00:00Z') / 1000 };
const dayFiles = (dataDir: string): string[] => readdirSync(path.join(dataDir, 'messages')).filter((n) => n.endsWith('.jsonl')).sort();

describe('message log entries', () => {
  it('numbers observations, keeps µs time and payload, and records schema and framing findings', async () => {
    const t = await startLog({ now: () => at('2025-03-01T13:00:00Z') / 1000 });
    const atUs = at('2025-03-01T12:00:00.123Z') + 456;
    const badBoot = JSON.stringify([2, 'b1', 'BootNotification', { chargePointModel: 'X' }]);
    const garbage = '[2,"g1","Heart';
    const entries = await t.emit(
      obs({ atUs, raw: JSON.stringify([2, 'b0', 'BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' }]), action: 'BootNotification', messageId: 'b0' }),
      obs({ atUs: atUs + 1, raw: badBoot, action: 'BootNotification', messageId: 'b1' }),
      obs({ atUs: atUs + 2, leg: 'upstream', origin: 'steve', raw: JSON.stringify([3, 'b0', { status: 'Maybe', currentTime: '2025-03-01T12:00:00Z', interval: 300 }]), messageType: 'CALLRESULT', action: 'BootNotification', messageId: 'b0', rttMs: 4.5 }),
      refusedObs(garbage, { atUs: atUs + 3 }),
    );
    const [ok, bad, result, broken] = entries as [LogEntry, LogEntry, LogEntry, LogEntry];
    expect(entries.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    expect(ok.time).toBe('2025-03-01T12:00:00.123456Z');
    expect(ok.payload).toEqual({ chargePointVendor: 'V', chargePointModel: 'M' });
    expect(ok.findings).toEqual([]);
    expect(bad.findings).toEqual([expect.objectContaining({ rule: 'schema.required', field: '/chargePointVendor' })]);
    expect(result.findings).toEqual([expect.objectContaining({ rule: 'schema.enum', field: '/status' })]);
    expect(result.rttMs).toBe(4.5);
    expect(broken.findings).toEqual([{ rule: 'frame.not-json', message: 'not JSON' }]);
    expect(broken.payload).toBeUndefined();

    await t.log.stop();
    // On disk: one JSON line per entry, the refused frame with its exact text as a string, a JSON frame as it came.
    const lines = readFileSync(path.join(t.dataDir, 'messages', '2025-03-01.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(4);
    expect((JSON.parse(lines[3] as string) as LogEntry).raw).toBe(garbage);
    expect(lines[1]).toContain(`,"frame":${badBoot}}`);
    expect((JSON.parse(lines[1] as string) as { frame: unknown }).frame).toEqual(JSON.parse(badBoot));
  });

  it('answers queries from the unwritten tail as well as from the files', async () => {
    const t = await startLog();
    await t.emit(obs({ messageId: 'a' }));
    await until(() => t.log.stats().written === 1); // the first entry is on disk now
    expect(t.log.stats().queued).toBe(0);
    let seen: number[] = [];
    let queuedThen = 0;
    t.bus.on('logged', () => {
      // Synchronously inside the batch: the entry is numbered but its write has not started.
      queuedThen = t.log.stats().queued;
      void t.log.query({}).then((page) => (seen = page.entries.map((x) => x.id)));
    });
    await t.emit(obs({ messageId: 'b' }));
    await until(() => seen.length > 0);
    expect(queuedThen).toBe(1);
    expect(seen).toEqual([2, 1]);
    await t.log.stop();
  });
});

describe('restarts', () => {
  it('keeps entries and continues ids after a clean stop', async () => {
    const dataDir = tempDir();
    const a = await startLog({ dataDir });
    await a.emit(...Array.from({ length: 5 }, (_, i) => obs({ messageId: `m${i}` })));
    await a.log.stop();

    const b = await startLog({ dataDir });
    expect((await b.log.query({})).entries.map((e) => e.messageId)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    const more = await b.emit(obs({ messageId: 'n0' }), obs({ messageId: 'n1' }));
    expect(more.map((e) => e.id)).toEqual([6, 7]);
    await b.log.stop();
  });

  it('never repeats an id after a crash that lost the unwritten entries', async () => {
    const dataDir = tempDir();
    const child = await run(process.execPath, ['--import', 'tsx', path.resolve('test/log/fixtures/crash-child.ts'), dataDir, '3']).catch((err: { stdout: string; signal?: string }) => err);
    expect('signal' in child && child.signal).toBe('SIGKILL');
    const crashIds = JSON.parse(child.stdout) as number[];
    expect(crashIds).toEqual([1, 2, 3]);

    const b = await startLog({ dataDir });
    expect((await b.log.query({})).entries).toEqual([]); // the crash lost them
    const [next] = await b.emit(obs());
    expect(next?.id).toBeGreaterThan(3);
    await b.log.stop();
  });

  it('rebuilds a lost index, drops one of an older layout, skips a torn last line, and appends cleanly after it', async () => {
    const dataDir = tempDir();
    const a = await startLog({ dataDir, ...march2 });
    await a.emit(...Array.from({ length: 3 }, (_, i) => obs({ atUs: at('2025-03-01T10:00:00Z') + i, messageId: `m${i}` })));
    await a.log.stop();
    const dir = path.join(dataDir, 'messages');
    appendFileSync(path.join(dir, '2025-03-01.jsonl'), '{"id":4,"time":"2025-03-01T10:0'); // power cut mid-line
    rmSync(path.join(dir, '2025-03-01.v1.idx'));
    writeFileSync(path.join(dir, '2025-03-01.idx'), 'an index in a layout this version does not read');

    const b = await startLog({ dataDir, ...march2 });
    expect(existsSync(path.join(dir, '2025-03-01.idx'))).toBe(false);
    expect(existsSync(path.join(dir, '2025-03-01.v1.idx'))).toBe(true);
    expect((await b.log.query({})).entries.map((e) => e.messageId)).toEqual(['m2', 'm1', 'm0']);
    await b.emit(obs({ atUs: at('2025-03-01T11:00:00Z'), messageId: 'after' }));
    await b.log.stop();
    const c = await startLog({ dataDir, ...march2 });
    const entries = (await c.log.query({})).entries;
    expect(entries.map((e) => e.messageId)).toEqual(['after', 'm2', 'm1', 'm0']);
    expect(entries[0]?.id).toBe(4);
    await c.log.stop();
  });
});

describe('day files', () => {
  const now = at('2025-03-10T12:00:00Z') / 1000;

  it('rotates per UTC day, deletes days past retention, and queries across days newest first', async () => {
    const t = await startLog({ retentionDays: 7, now: () => now });
    const days = ['2025-02-18', '2025-03-07', '2025-03-09', '2025-03-10'];
    for (const day of days) await t.emit(obs({ atUs: at(`${day}T23:59:59.999Z`), messageId: day }));
    await t.log.stop();
    expect(dayFiles(t.dataDir)).toEqual(['2025-03-07.jsonl', '2025-03-09.jsonl', '2025-03-10.jsonl']);
    expect(existsSync(path.join(t.dataDir, 'messages', '2025-02-18.v1.idx'))).toBe(false);

    const again = await startLog({ dataDir: t.dataDir, retentionDays: 7, now: () => now });
    expect((await again.log.query({})).entries.map((e) => e.messageId)).toEqual(['2025-03-10', '2025-03-09', '2025-03-07']);
    await again.log.stop();

    // A week later the 7th and 9th are past retention at start-up; ids still do not start over.
    const later = await startLog({ dataDir: t.dataDir, retentionDays: 7, now: () => now + 7 * 86_400_000 });
    expect(dayFiles(t.dataDir)).toEqual(['2025-03-10.jsonl']);
    const [fresh] = await later.emit(obs({ atUs: (now + 7 * 86_400_000) * 1000 }));
    expect(fresh?.id).toBe(5);
    await later.log.stop();
  });

  it('keeps a late-stamped entry in the newest day file so ids only grow from file to file', async () => {
    const t = await startLog({ now: () => now });
    await t.emit(obs({ atUs: at('2025-03-10T00:00:00.001Z'), messageId: 'new' }));
    await t.emit(obs({ atUs: at('2025-03-09T23:59:59.999Z'), messageId: 'late' }));
    await t.log.stop();
    expect(dayFiles(t.dataDir)).toEqual(['2025-03-10.jsonl']);
    const again = await startLog({ dataDir: t.dataDir, now: () => now });
    const found = (await again.log.query({ untilUs: at('2025-03-10T00:00:00Z') })).entries;
    expect(found.map((e) => e.messageId)).toEqual(['late']);
    await again.log.stop();
  });
});

describe('queries', () => {
  // 48 entries over two days and every dimension a filter can select on.
  const base = at('2025-03-01T22:00:00Z');
  const seed: FrameObservation[] = Array.from({ length: 48 }, (_, i) => {
    const isCall = i % 3 === 0;
    const action = ['Heartbeat', 'StatusNotification', 'MeterValues'][i % 3 === 0 ? (i / 3) % 3 : 0] as string;
    const raw = isCall
      ? JSON.stringify([2, `m${i}`, action, i % 4 === 0 && action === 'StatusNotification' ? { connectorId: 1 } : action === 'StatusNotification' ? { connectorId: 1, errorCode: 'NoError', status: 'Available' } : action === 'MeterValues' ? { connectorId: 1, meterValue: [] } : {}])
      : i % 3 === 1
        ? JSON.stringify([3, `m${i - 1}`, { currentTime: '2025-03-01T22:00:00Z' }])
        : JSON.stringify([4, `m${i - 2}`, 'InternalError', 'boom', {}]);
    return obs({
      atUs: base + i * 10 * 60_000_000, // every 10 minutes: the last 20 fall on 2 March
      chargeBoxId: i % 2 === 0 ? 'CP-even' : 'CP odd, "quoted"',
      leg: i % 4 < 2 ? 'station' : 'upstream',
      direction: i % 5 < 3 ? 'in' : 'out',
      origin: (['station', 'steve', 'local-cs', 'gateway'] as const)[i % 4],
      disposition: (['forwarded', 'refused', 'answered', 'own', 'local'] as const)[i % 5],
      raw,
      messageType: isCall ? 'CALL' : i % 3 === 1 ? 'CALLRESULT' : 'CALLERROR',
      action: isCall ? action : i % 3 === 1 ? 'Heartbeat' : undefined,
      messageId: `m${i - (i % 3)}`,
    } as Partial<FrameObservation>);
  });

  const ids = (entries: readonly LogEntry[]): number[] => entries.map((e) => e.id);
  const expected = (all: readonly LogEntry[], pred: (e: LogEntry) => boolean): number[] => ids(all.filter(pred)).reverse();

  it('applies every filter, on disk and in memory alike', async () => {
    const dataDir = tempDir();
    const a = await startLog({ dataDir, ...march2 });
    await a.emit(...seed.slice(0, 30));
    await a.log.stop();
    const t = await startLog({ dataDir, ...march2 });
    await t.emit(...seed.slice(30)); // some of these may still be unwritten during the queries
    const all = [...(await allPages(t.log))].reverse();
    expect(all).toHaveLength(48);
    expect(new Set(all.map((e) => e.time.slice(0, 10)))).toEqual(new Set(['2025-03-01', '2025-03-02']));
    expect(dayFiles(dataDir)).toEqual(['2025-03-01.jsonl', '2025-03-02.jsonl']);

    const cases: [Parameters<typeof t.log.query>[0], (e: LogEntry) => boolean][] = [
      [{ chargeBoxId: ['CP odd, "quoted"'] }, (e) => e.chargeBoxId === 'CP odd, "quoted"'],
      [{ chargeBoxId: ['CP-even', 'nope'] }, (e) => e.chargeBoxId === 'CP-even'],
      [{ action: ['StatusNotification'] }, (e) => e.action === 'StatusNotification'],
      [{ action: ['Heartbeat', 'MeterValues'] }, (e) => e.action === 'Heartbeat' || e.action === 'MeterValues'],
      [{ direction: ['out'] }, (e) => e.direction === 'out'],
      [{ leg: ['upstream'] }, (e) => e.leg === 'upstream'],
      [{ messageType: ['CALLERROR'] }, (e) => e.messageType === 'CALLERROR'],
      [{ messageType: ['CALL', 'CALLRESULT'] }, (e) => e.messageType !== 'CALLERROR'],
      [{ origin: ['local-cs'] }, (e) => e.origin === 'local-cs'],
      [{ disposition: ['refused', 'own'] }, (e) => e.disposition === 'refused' || e.disposition === 'own'],
      [{ hasFindings: true }, (e) => e.findings.length > 0],
      [{ hasFindings: false }, (e) => e.findings.length === 0],
      [{ sinceUs: at('2025-03-02T00:00:00Z') }, (e) => e.atUs >= at('2025-03-02T00:00:00Z')],
      [{ untilUs: at('2025-03-01T23:00:00Z') }, (e) => e.atUs <= at('2025-03-01T23:00:00Z')],
      [{ sinceUs: at('2025-03-01T23:30:00Z'), untilUs: at('2025-03-02T01:00:00Z') }, (e) => e.atUs >= at('2025-03-01T23:30:00Z') && e.atUs <= at('2025-03-02T01:00:00Z')],
      [{ chargeBoxId: ['CP-even'], leg: ['station'], direction: ['in'] }, (e) => e.chargeBoxId === 'CP-even' && e.leg === 'station' && e.direction === 'in'],
    ];
    for (const [q, pred] of cases) {
      const want = expected(all, pred);
      expect(want.length, JSON.stringify(q)).toBeGreaterThan(0);
      expect(want.length, JSON.stringify(q)).toBeLessThan(48);
      expect(ids((await t.log.query({ ...q, limit: 1000 })).entries), JSON.stringify(q)).toEqual(want);
    }
    expect(all.some((e) => e.findings.some((f) => f.rule === 'schema.required'))).toBe(true);
    await t.log.stop();
  });

  it('pages newest first with a cursor, without gaps or repeats, across restarts', async () => {
    const dataDir = tempDir();
    const a = await startLog({ dataDir, ...march2 });
    for (let i = 0; i < 5; i++) await a.emit(...seed);
    await a.log.stop();
    const t = await startLog({ dataDir, ...march2 });
    await t.emit(...seed.slice(0, 10));

    const pages: number[][] = [];
    let cursor: string | undefined;
    do {
      const page = await t.log.query({ limit: 100, ...(cursor ? { cursor } : {}) });
      pages.push(ids(page.entries));
      cursor = page.nextCursor;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    const flat = pages.flat();
    expect(flat).toEqual(Array.from({ length: 250 }, (_, i) => 250 - i));

    const odd = await allPages(t.log, { chargeBoxId: ['CP odd, "quoted"'], limit: 7 });
    expect(ids(odd)).toEqual(flat.filter((id) => id % 2 === 0));
    await expect(t.log.query({ cursor: 'abc' })).rejects.toThrow(/cursor/);
    await expect(t.log.query({ limit: 0 })).rejects.toThrow(/limit/);
    await t.log.stop();
  });
});

describe('large day files', () => {
  it('finds sparse entries and pages across many index chunks', async () => {
    const dataDir = tempDir();
    const a = await startLog({ dataDir, ...march2 });
    const n = 6000; // the index is read in growing chunks (1,024 records first): this crosses several
    await a.emit(...Array.from({ length: n }, (_, i) => obs({ atUs: at('2025-03-01T08:00:00Z') + i, chargeBoxId: i % 997 === 0 ? 'RARE' : `CP${i % 7}`, messageId: `m${i}` })));
    await a.log.stop();
    const t = await startLog({ dataDir, ...march2 });
    const rare = Array.from({ length: n }, (_, i) => i).filter((i) => i % 997 === 0).map((i) => i + 1).reverse();
    expect((await t.log.query({ chargeBoxId: ['RARE'] })).entries.map((e) => e.id)).toEqual(rare);
    expect((await allPages(t.log, { chargeBoxId: ['RARE'], limit: 2 })).map((e) => e.id)).toEqual(rare);
    const everything = await allPages(t.log, { limit: 1000 });
    expect(everything.map((e) => e.id)).toEqual(Array.from({ length: n }, (_, i) => n - i));
    const streamed: number[] = [];
    for await (const e of t.log.entries({})) streamed.push(e.id);
    expect(streamed).toEqual(everything.map((e) => e.id));
    const cp3 = everything.filter((e) => e.chargeBoxId === 'CP3').map((e) => e.id);
    expect((await t.log.query({ chargeBoxId: ['CP3'], limit: 1000 })).entries.map((e) => e.id)).toEqual(cp3);
    const below = await t.log.query({ cursor: '3001', limit: 5, chargeBoxId: ['CP3'] });
    expect(below.entries.map((e) => e.id)).toEqual(everything.filter((e) => e.id < 3001 && e.chargeBoxId === 'CP3').slice(0, 5).map((e) => e.id));
    await t.log.stop();
  });
});

describe('large and deep frames', () => {
  it('keeps the first MESSAGE_LOG_MAX_RAW_BYTES of a larger frame, no payload, and says so', async () => {
    const t = await startLog({ maxRawBytes: 1024 });
    const raw = JSON.stringify([2, 'L1', 'DataTransfer', { vendorId: 'x', data: 'é'.repeat(3000) }]);
    const [entry] = await t.emit(obs({ raw, action: 'DataTransfer', messageId: 'L1' }));
    expect(entry?.rawBytes).toBe(Buffer.byteLength(raw));
    expect(Buffer.byteLength(entry?.raw ?? '')).toBeLessThanOrEqual(1024);
    expect(raw.startsWith(entry?.raw ?? 'x')).toBe(true);
    expect(entry?.payload).toBeUndefined();
    expect(entry?.findings.map((f) => f.rule)).toContain('frame.too-large');
    await t.log.stop();
    const again = await startLog({ dataDir: t.dataDir, maxRawBytes: 1024 });
    const [read] = (await again.log.query({})).entries;
    expect(read).toMatchObject({ id: entry?.id, raw: entry?.raw, rawBytes: entry?.rawBytes });
    expect(read?.payload).toBeUndefined();
    await again.log.stop();
  });

  it('ends a page of large entries early, with a cursor to the rest', async () => {
    const t = await startLog({ maxRawBytes: 1024 * 1024 });
    const raw = JSON.stringify([2, 'P', 'DataTransfer', { vendorId: 'x', data: 'p'.repeat(1000 * 1000) }]);
    const emitted = await t.emit(...Array.from({ length: 12 }, (_, i) => obs({ raw, action: 'DataTransfer', messageId: `p${i}` })));
    expect(emitted).toHaveLength(12);
    const first = await t.log.query({ limit: 1000 });
    expect(first.entries.length).toBeGreaterThan(0);
    expect(first.entries.length).toBeLessThan(12);
    expect(first.nextCursor).toBeDefined();
    const all = await allPages(t.log, { limit: 1000 });
    expect(all.map((e) => e.messageId)).toEqual(emitted.map((e) => e.messageId).reverse());
    await t.log.stop();
  });

  it('keeps a payload nested deeper than 64 levels as raw text only, without walking it for the schema', async () => {
    const t = await startLog();
    const raw = `[2,"D1","Heartbeat",{"x":${'['.repeat(65)}${']'.repeat(65)}}]`;
    const [entry] = await t.emit(obs({ raw, action: 'Heartbeat', messageId: 'D1' }));
    expect(entry?.payload).toBeUndefined();
    expect(entry?.raw).toBe(raw);
    expect(entry?.findings.map((f) => f.rule)).toEqual(['frame.too-deep']);
    const shallow = `[2,"D2","Heartbeat",{"x":${'['.repeat(60)}${']'.repeat(60)}}]`;
    const [ok] = await t.emit(obs({ raw: shallow, action: 'Heartbeat', messageId: 'D2' }));
    expect(ok?.payload).toBeDefined();
    await t.log.stop();
  });
});

describe('backpressure', () => {
  it('drops log entries beyond the queue limit and counts them', async () => {
    const t = await startLog({ queueLimit: 5 });
    for (let i = 0; i < 100; i++) t.bus.emit('frame', obs({ messageId: `q${i}` }));
    // The listener only queued: nothing was parsed, numbered or announced on the emitter's stack.
    expect(t.logged).toHaveLength(0);
    expect(t.log.stats()).toMatchObject({ written: 0, dropped: 95, droppedForBytes: 0, queued: 5 });
    await t.log.stop();
    expect(t.log.stats()).toMatchObject({ written: 5, dropped: 95, queued: 0, queuedBytes: 0 });
    expect(t.logged.map((e) => e.messageId)).toEqual(['q0', 'q1', 'q2', 'q3', 'q4']);
    const metrics = await t.registry.metrics();
    expect(metrics).toMatch(/^chargebridge_message_log_dropped_total 95$/m);
    expect(metrics).toMatch(/^chargebridge_message_log_written_total 5$/m);
  });

  it('drops log entries beyond the byte budget, counts them, and gives the bytes back once written', async () => {
    const t = await startLog({ queueBytes: 65_536 });
    const raw = JSON.stringify([2, 'big', 'DataTransfer', { vendorId: 'x', data: 'y'.repeat(4096) }]);
    const cost = entryCost(raw.length);
    const fits = Math.floor(65_536 / cost);
    expect(fits).toBeGreaterThan(0);
    for (let i = 0; i < 100; i++) t.bus.emit('frame', obs({ raw, action: 'DataTransfer', messageId: `b${i}` }));
    expect(t.log.stats()).toMatchObject({ dropped: 100 - fits, droppedForBytes: 100 - fits, queued: fits, queuedBytes: fits * cost, queueBytesLimit: 65_536 });
    await t.log.stop();
    expect(t.log.stats()).toMatchObject({ written: fits, dropped: 100 - fits, queued: 0, queuedBytes: 0 });
    const metrics = await t.registry.metrics();
    expect(metrics).toMatch(new RegExp(`^chargebridge_message_log_dropped_bytes_total ${(100 - fits) * cost}$`, 'm'));
    expect(metrics).toMatch(/^chargebridge_message_log_queued_bytes 0$/m);
  });
});

describe('turns of the event loop', () => {
  it('numbers large frames in turns of their own, so one batch never holds several of them', async () => {
    const t = await startLog();
    // Each frame is over half the batch budget: at most one of them fits a turn. Small frames keep sharing turns.
    const big = (id: string): FrameObservation => obs({ messageId: id, raw: JSON.stringify([2, id, 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(BATCH_CHARS / 2 + 10) }]) });
    const small = (id: string): FrameObservation => obs({ messageId: id, raw: JSON.stringify([2, id, 'Heartbeat', {}]) });
    // A microtask queued in a 'logged' listener runs only after the batch that emitted it returns: each entry
    // records how many of those had run by then, which counts the batches before it.
    let turns = 0;
    const turnOf = new Map<string, number>();
    t.bus.on('logged', (e) => {
      turnOf.set(e.messageId ?? '', turns);
      queueMicrotask(() => (turns = Math.max(turns, turnOf.size)));
    });
    await t.emit(small('s1'), small('s2'), big('b1'), big('b2'), big('b3'), small('s3'), small('s4'));
    const at = (id: string): number => turnOf.get(id) ?? -1;
    // Each large frame in a turn of its own; otherwise turns end when the time slice is used up, so which small
    // frames share a turn depends on the machine: only their order is certain.
    expect(at('b2')).toBeGreaterThan(at('b1'));
    expect(at('b3')).toBeGreaterThan(at('b2'));
    const order = ['s1', 's2', 'b1', 'b2', 'b3', 's3', 's4'].map(at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.every((turn) => turn >= 0)).toBe(true);
    await t.log.stop();
  });

  it('ends a turn once its slice is used up, whatever the entries cost', async () => {
    const t = await startLog();
    // Listeners taking 0.1 ms per entry: a 0.25 ms slice holds three entries, not the eight that a clock read
    // every eighth entry allowed.
    let turns = 0;
    const perTurn = new Map<number, number>();
    t.bus.on('logged', () => {
      const until = performance.now() + 0.1;
      while (performance.now() < until);
      perTurn.set(turns, (perTurn.get(turns) ?? 0) + 1);
      queueMicrotask(() => (turns = perTurn.size));
    });
    await t.emit(...Array.from({ length: 40 }, (_, i) => obs({ messageId: `h${i}`, raw: JSON.stringify([2, `h${i}`, 'Heartbeat', {}]) })));
    expect([...perTurn.values()].reduce((a, b) => a + b, 0)).toBe(40);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(4);
    await t.log.stop();
  });
});
