// The history's journal on real files: segments roll and are reclaimed so the disk holds about what the rings
// hold, a quiet station's events are carried forward instead of pinning old segments, and restore() copes with
// what a crash leaves (a torn line, a copy whose original was not yet deleted) and with the per-station layout.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { EventHistory, STATION_EVENT_WRITE_MS, type EventHistoryOptions } from '../../src/events/history.js';

const logger = pino({ level: 'silent' });
const opened: EventHistory[] = [];
afterEach(() => {
  for (const h of opened.splice(0)) h.close();
});

function open(dataDir: string, opts: Partial<EventHistoryOptions> = {}): EventHistory {
  const history = new EventHistory({ dataDir, perStation: 5, logger, ...opts });
  history.restore();
  opened.push(history);
  return history;
}
function reopen(history: EventHistory, dataDir: string, opts: Partial<EventHistoryOptions> = {}): EventHistory {
  history.close();
  opened.splice(opened.indexOf(history), 1);
  return open(dataDir, opts);
}

const tempDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'cb-journal-'));
const eventsDir = (dataDir: string): string => path.join(dataDir, 'events');
const heartbeat = (chargeBoxId: string, seq: number): GatewayEvent => ({
  id: `${chargeBoxId}-${seq}`, seq, type: 'heartbeat', chargeBoxId, timestamp: '2026-03-01T10:00:00.000Z',
  receivedAt: '2026-03-01T10:00:00.000Z', source: 'station', data: {},
});
const line = (e: GatewayEvent): string => `${JSON.stringify(e)}\n`;

/** Journal segment names, oldest first. */
function segments(dataDir: string): string[] {
  return readdirSync(eventsDir(dataDir))
    .filter((name) => /^journal-\d+\.jsonl$/.test(name))
    .sort((a, b) => Number(a.slice(8, -6)) - Number(b.slice(8, -6)));
}
function journalBytes(dataDir: string): number {
  return segments(dataDir).reduce((sum, name) => sum + statSync(path.join(eventsDir(dataDir), name)).size, 0);
}
/** Every line of the journal whose station is `chargeBoxId`, as written. */
function journalLines(dataDir: string, chargeBoxId: string): GatewayEvent[] {
  return segments(dataDir)
    .flatMap((name) => readFileSync(path.join(eventsDir(dataDir), name), 'utf8').split('\n'))
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as GatewayEvent)
    .filter((e) => e.chargeBoxId === chargeBoxId);
}
const seqs = (events: readonly GatewayEvent[]): number[] => events.map((e) => e.seq);

const busy = ['B0', 'B1', 'B2', 'B3'];

/**
 * A quiet station Q sends two events, then four busy stations send `rounds` rounds, one flush (turn) each.
 * Returns the text of journal-1 (where Q's events were written) as it was when that segment was closed.
 */
function quietAndBusy(dataDir: string, rounds: number): { history: EventHistory; firstSegment: string; maxFiles: number } {
  const history = open(dataDir, { segmentLines: 20 });
  history.append(heartbeat('Q', 1));
  history.append(heartbeat('Q', 2));
  history.flush();
  let firstSegment = '';
  let maxFiles = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const id of busy) history.append(heartbeat(id, round));
    history.flush();
    maxFiles = Math.max(maxFiles, segments(dataDir).length);
    if (firstSegment === '' && segments(dataDir).length > 1) firstSegment = readFileSync(path.join(eventsDir(dataDir), 'journal-1.jsonl'), 'utf8');
  }
  return { history, firstSegment, maxFiles };
}

describe('EventHistory journal', () => {
  const lineBytes = line(heartbeat('B00', 100)).length;
  it.each([
    ['lines', { segmentLines: 50 }],
    ['bytes', { segmentBytes: 50 * lineBytes }],
  ])('rolls segments by %s and reclaims them: the disk stays bounded while events keep flowing', (_, segmentOpts) => {
    const dataDir = tempDir();
    const stations = Array.from({ length: 20 }, (_, i) => `B${String(i).padStart(2, '0')}`);
    let history = open(dataDir, segmentOpts);
    let maxFiles = 0;
    let maxBytes = 0;
    for (let round = 1; round <= 300; round++) {
      for (const id of stations) history.append(heartbeat(id, round));
      history.flush();
      maxFiles = Math.max(maxFiles, segments(dataDir).length);
      maxBytes = Math.max(maxBytes, journalBytes(dataDir));
    }
    // 6,000 lines written in segments of 3 rounds (60 lines). The rings hold the last 5 rounds, which touch at
    // most 3 segments: anything more on disk is a segment that should have been deleted.
    expect(Number(segments(dataDir).at(-1)!.slice(8, -6))).toBeGreaterThan(90);
    expect(existsSync(path.join(eventsDir(dataDir), 'journal-1.jsonl'))).toBe(false);
    expect(maxFiles).toBeLessThanOrEqual(3);
    expect(maxBytes).toBeLessThanOrEqual(3 * 60 * lineBytes);

    history = reopen(history, dataDir, segmentOpts);
    expect(history.stations()).toHaveLength(20);
    for (const id of stations) expect(seqs(history.since(id, 0))).toEqual([296, 297, 298, 299, 300]);
    expect(segments(dataDir).length).toBeLessThanOrEqual(5);
  });

  it('compacts a segment held only by a quiet station: its events are carried forward and the segment deleted', () => {
    const dataDir = tempDir();
    const run = quietAndBusy(dataDir, 100);
    let history = run.history;
    expect(existsSync(path.join(eventsDir(dataDir), 'journal-1.jsonl'))).toBe(false);
    // Q's events hop forward rather than holding journal-1: the busy rings' last 5 rounds (a segment and a bit),
    // the segment Q's copies are in, and the current one.
    expect(run.maxFiles).toBeLessThanOrEqual(3);
    // On disk exactly once, same ids and seqs.
    expect(journalLines(dataDir, 'Q').map((e) => [e.id, e.seq])).toEqual([['Q-1', 1], ['Q-2', 2]]);

    history = reopen(history, dataDir, { segmentLines: 20 });
    expect(history.since('Q', 0).map((e) => [e.id, e.seq])).toEqual([['Q-1', 1], ['Q-2', 2]]);
    for (const id of busy) expect(seqs(history.since(id, 0))).toEqual([96, 97, 98, 99, 100]);
  });

  it('drops on restore the duplicates left by a crash between a compaction copy and the delete', () => {
    const dataDir = tempDir();
    const run = quietAndBusy(dataDir, 100);
    run.history.close();
    // The crash: the copy is in a later segment, but the original segment was never deleted.
    writeFileSync(path.join(eventsDir(dataDir), 'journal-1.jsonl'), run.firstSegment);
    expect(seqs(journalLines(dataDir, 'Q'))).toEqual([1, 2, 1, 2]);

    let history = open(dataDir, { segmentLines: 20 });
    expect(history.since('Q', 0).map((e) => [e.id, e.seq])).toEqual([['Q-1', 1], ['Q-2', 2]]);
    expect(history.lastSeq('Q')).toBe(2);
    for (const id of busy) expect(seqs(history.since(id, 0))).toEqual([96, 97, 98, 99, 100]);
    // Duplicates must not crowd out a full ring either.
    for (let seq = 3; seq <= 5; seq++) history.append(heartbeat('Q', seq));
    history = reopen(history, dataDir, { segmentLines: 20 });
    expect(seqs(history.since('Q', 0))).toEqual([1, 2, 3, 4, 5]);
  });

  it('skips a torn last line, and writes after a restart do not join onto it', () => {
    const dataDir = tempDir();
    let history = open(dataDir, { perStation: 10 });
    for (let seq = 1; seq <= 3; seq++) history.append(heartbeat('CP1', seq));
    history.close();
    const last = path.join(eventsDir(dataDir), segments(dataDir).at(-1)!);
    appendFileSync(last, line(heartbeat('CP1', 4)).slice(0, 30));

    history = open(dataDir, { perStation: 10 });
    expect(seqs(history.since('CP1', 0))).toEqual([1, 2, 3]);
    history.append(heartbeat('CP1', 4));
    history.append(heartbeat('CP1', 5));
    history = reopen(history, dataDir, { perStation: 10 });
    expect(seqs(history.since('CP1', 0))).toEqual([1, 2, 3, 4, 5]);
  });

  it('moves per-station files of the previous layout into the journal and deletes them', () => {
    const dataDir = tempDir();
    const dir = eventsDir(dataDir);
    mkdirSync(dir, { recursive: true });
    const slashed = Array.from({ length: 8 }, (_, i) => heartbeat('CP/1', i + 1));
    writeFileSync(path.join(dir, 'CP%2F1.jsonl'), `${slashed.map(line).join('')}{"id":"CP/1-9","se`);
    writeFileSync(path.join(dir, 'CP2.jsonl'), [1, 2, 3].map((seq) => line(heartbeat('CP2', seq))).join(''));
    writeFileSync(path.join(dir, 'CP2.jsonl.tmp'), line(heartbeat('CP2', 1))); // an old rewrite cut short

    let history = open(dataDir);
    expect(history.stations().sort()).toEqual(['CP/1', 'CP2']);
    expect(seqs(history.since('CP/1', 0))).toEqual([4, 5, 6, 7, 8]);
    expect(seqs(history.since('CP2', 0))).toEqual([1, 2, 3]);
    expect(readdirSync(dir).filter((name) => !name.startsWith('journal-'))).toEqual([]);
    expect(seqs(journalLines(dataDir, 'CP/1'))).toEqual([4, 5, 6, 7, 8]);

    // A crash before the deletes leaves a per-station file next to the journal: read again, not written twice.
    writeFileSync(path.join(dir, 'CP2.jsonl'), [1, 2, 3].map((seq) => line(heartbeat('CP2', seq))).join(''));
    history = reopen(history, dataDir);
    expect(seqs(history.since('CP/1', 0))).toEqual([4, 5, 6, 7, 8]);
    expect(seqs(history.since('CP2', 0))).toEqual([1, 2, 3]);
    expect(seqs(journalLines(dataDir, 'CP2'))).toEqual([1, 2, 3]);
    expect(existsSync(path.join(dir, 'CP2.jsonl'))).toBe(false);
  });
});

describe('when events reach the journal', () => {
  it("writes a station's wire events together within STATION_EVENT_WRITE_MS, and SteVe's at the end of the turn", async () => {
    const dir = tempDir();
    const history = open(dir, { perStation: 100 });
    for (let seq = 1; seq <= 50; seq++) history.append(heartbeat('W1', seq));
    // Not yet after a turn: 50 events wait for one write instead of one write per turn.
    await new Promise((r) => setImmediate(r));
    expect(journalLines(dir, 'W1')).toHaveLength(0);
    await new Promise((r) => setTimeout(r, STATION_EVENT_WRITE_MS + 30));
    expect(seqs(journalLines(dir, 'W1'))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));

    // An event from SteVe's database goes out at the end of the turn, and takes waiting station events with it.
    history.append(heartbeat('W1', 51));
    history.append({ ...heartbeat('S1', 1), source: 'steve' });
    await new Promise((r) => setImmediate(r));
    expect(seqs(journalLines(dir, 'S1'))).toEqual([1]);
    expect(seqs(journalLines(dir, 'W1')).at(-1)).toBe(51);
  });

  it('writes waiting station events at once on close', () => {
    const dir = tempDir();
    const history = open(dir);
    history.append(heartbeat('W2', 1));
    history.close();
    opened.splice(opened.indexOf(history), 1);
    expect(seqs(journalLines(dir, 'W2'))).toEqual([1]);
  });
});
