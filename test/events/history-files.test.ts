// The history's files: thousands of stations share one journal descriptor (the process's limit is for the
// stations' sockets), and everything written must come back after a restart.
import { mkdtempSync, readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { EventHistory } from '../../src/events/history.js';

function openFilesUnder(dir: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    } catch {
      return false;
    }
  }).length;
}

const heartbeat = (chargeBoxId: string, seq: number): GatewayEvent => ({
  id: `${chargeBoxId}-${seq}`, seq, type: 'heartbeat', chargeBoxId, timestamp: new Date().toISOString(),
  receivedAt: new Date().toISOString(), source: 'station', data: {},
});

describe('EventHistory files', () => {
  it('keeps one file open across 1,000 stations and loses nothing', () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-hist-'));
    const logger = pino({ level: 'silent' });
    const history = new EventHistory({ dataDir, perStation: 10, logger });
    history.restore();
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < 1000; i++) history.append(heartbeat(`CP${i}`, round));
      history.flush();
      expect(openFilesUnder(path.join(dataDir, 'events'))).toBe(1);
    }
    history.close();
    expect(openFilesUnder(path.join(dataDir, 'events'))).toBe(0);

    const again = new EventHistory({ dataDir, perStation: 10, logger });
    again.restore();
    expect(again.stations()).toHaveLength(1000);
    for (const id of ['CP0', 'CP500', 'CP999']) expect(again.since(id, 0).map((e) => e.seq)).toEqual([1, 2, 3]);
    again.close();
  });
});
