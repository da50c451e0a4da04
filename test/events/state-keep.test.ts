// The station state file (DATA_DIR/station-state.json): what it restores at start, that the wire extractor
// learns the open transactions from it, and that an unreadable file costs nothing but itself.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GatewayEvent } from '../../src/events/catalogue.js';
import { StateKeepFile, type KeepSource, type KeptStatus, type StateKeep } from '../../src/events/state-keep.js';
import { answer, type Harness, startModel, stationCall, tempDir } from './helpers.js';

const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.model.stop();
});

describe('station state file', () => {
  it('restores open transactions and statuses; a StopTransaction on the wire then carries connector and energy', async () => {
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, 'station-state.json'), JSON.stringify({
      openTransactions: [{ chargeBoxId: 'CP1', transactionId: 9, connectorId: 2, idTag: 'TAG', startTime: '2026-03-01T10:00:00.000Z', meterStart: 100, open: true, source: 'station' }],
      connectors: [{ chargeBoxId: 'CP1', connectorId: 2, status: 'Charging', errorCode: 'NoError', timestamp: '2026-03-01T10:00:00.000Z', source: 'station', synthetic: false }],
    }));
    const h = await startModel({ dataDir });
    running.push(h);
    expect(h.model.state.summary('CP1')).toMatchObject({ connectorId: 2, status: 'Charging', transactionId: 9 });

    h.bus.emit('logged', stationCall('CP1', 's1', 'StopTransaction', {
      transactionId: 9, meterStop: 600, timestamp: '2026-03-01T11:00:00.000Z', reason: 'Local',
      transactionData: [{ timestamp: '2026-03-01T11:00:00.000Z', sampledValue: [{ value: '600', context: 'Transaction.End' }] }],
    }));
    h.bus.emit('logged', answer('CP1', 's1', 'StopTransaction', {}));
    const stopped = h.events.find((e): e is GatewayEvent<'transactionStopped'> => e.type === 'transactionStopped');
    expect(stopped).toMatchObject({ connectorId: 2, transactionId: 9, data: { energyWh: 500, idTag: 'TAG' } });
    expect(h.events.find((e) => e.type === 'meterValues')).toMatchObject({ connectorId: 2, transactionId: 9 });
    expect(h.model.state.snapshot('CP1')?.openTransactions).toEqual([]);

    // Written again (at stop at the latest): nothing open any more, the status kept.
    await h.model.stop();
    running.pop();
    const kept = JSON.parse(readFileSync(path.join(dataDir, 'station-state.json'), 'utf8')) as { openTransactions: unknown[]; connectors: { status: string }[] };
    expect(kept.openTransactions).toEqual([]);
    expect(kept.connectors.map((c) => c.status)).toEqual(['Charging']);
  });

  it('an unreadable file is ignored: the model starts from its history', async () => {
    const dataDir = tempDir();
    writeFileSync(path.join(dataDir, 'station-state.json'), '{"openTransactions": [tor');
    const h = await startModel({ dataDir });
    running.push(h);
    expect(h.model.state.ids()).toEqual([]);
    expect(h.model.stats()).toMatchObject({ stateKeepDropped: 0, stateKeepWriteErrors: 0 });
  });

  it('written in the background soon after a change, and a stop during a write leaves the newest state on disk', async () => {
    const dataDir = tempDir();
    const keep = new StateKeepFile(dataDir, pino({ level: 'silent' }));
    let status = 'Available';
    const connector = (): KeptStatus => ({ chargeBoxId: 'CP1', connectorId: 1, status, errorCode: 'NoError', timestamp: '2026-03-01T10:00:00.000Z', source: 'station', synthetic: false });
    const source: KeepSource = {
      ids: () => ['CP1'],
      station: () => ({ openTransactions: [], connectors: [connector()] }),
      all: () => ({ openTransactions: [], connectors: [connector()] }),
    };
    const onDisk = (): string | undefined => {
      try {
        return (JSON.parse(readFileSync(keep.file, 'utf8')) as StateKeep).connectors[0]?.status;
      } catch {
        return undefined;
      }
    };
    keep.schedule(source);
    await vi.waitFor(() => expect(onDisk()).toBe('Available'), { timeout: 3000 });
    // Changes while the next write is in flight and after it: the stop waits for it, then writes the newest.
    status = 'Preparing';
    keep.touched('CP1');
    keep.schedule(source);
    await new Promise((r) => setTimeout(r, 1050));
    status = 'Charging';
    keep.touched('CP1');
    keep.schedule(source);
    status = 'SuspendedEV';
    keep.touched('CP1');
    keep.schedule(source);
    await keep.flush();
    expect(onDisk()).toBe('SuspendedEV');
    expect(keep.counters.writeErrors).toBe(0);
  });

  it('re-serialises only the stations touched since the last write; the file is what the whole state would give', async () => {
    const dataDir = tempDir();
    const keep = new StateKeepFile(dataDir, pino({ level: 'silent' }));
    const states = new Map<string, StateKeep>();
    const status = (id: string, s: string): KeptStatus => ({ chargeBoxId: id, connectorId: 1, status: s, errorCode: 'NoError', timestamp: '2026-03-01T10:00:00.000Z', source: 'station', synthetic: false });
    for (const id of ['A', 'B', 'C']) states.set(id, { openTransactions: [], connectors: [status(id, 'Available')] });
    states.set('B', { openTransactions: [{ chargeBoxId: 'B', transactionId: 7, connectorId: 1, idTag: 'T', startTime: '2026-03-01T10:00:00.000Z', meterStart: 5, open: true, source: 'station' }], connectors: [status('B', 'Charging')] });
    const read: string[] = [];
    const source: KeepSource = {
      ids: () => states.keys(),
      station: (id) => {
        read.push(id);
        return states.get(id)!;
      },
      all: () => ({ openTransactions: [...states.values()].flatMap((k) => k.openTransactions), connectors: [...states.values()].flatMap((k) => k.connectors) }),
    };
    const whole = (): StateKeep => JSON.parse(JSON.stringify(source.all())) as StateKeep;
    keep.schedule(source);
    await keep.flush();
    expect(JSON.parse(readFileSync(keep.file, 'utf8'))).toEqual(whole());
    expect(read.sort()).toEqual(['A', 'B', 'C']);

    read.length = 0;
    states.set('C', { openTransactions: [], connectors: [status('C', 'Faulted')] });
    states.set('D', { openTransactions: [], connectors: [status('D', 'Available')] });
    keep.touched('C');
    keep.touched('D');
    keep.schedule(source);
    await keep.flush();
    expect(read.sort()).toEqual(['C', 'D']);
    expect(JSON.parse(readFileSync(keep.file, 'utf8'))).toEqual(whole());
  });
});
