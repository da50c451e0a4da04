// The page's station store (ui/js/station-store.js) in Node: each event applied once, state moved only by
// newer seqs, `since` from the newest seq held, summaries never going backwards.
import { beforeAll, describe, expect, it } from 'vitest';

interface Store {
  applySubscribe(ack: unknown): void;
  applyEvent(e: unknown): boolean;
  applySummary(s: unknown): void;
  countFindings(events: unknown[]): void;
  applyFleet(entries: unknown[], followed: (id: string) => boolean): void;
  sinceMap(): Record<string, number>;
  get(id: string): { findings: number; seq: number; maxSeq: number; connectors: Map<number, { status: string }>; openTx: { transactionId?: number }[]; feed: { text: string }[]; summary?: { soc: number | null; seq: number }; online: boolean } | undefined;
  ids(): string[];
}

let createStationStore: () => Store;

beforeAll(async () => {
  // A plain ES module of the UI, loaded as the browser would (no types, no build).
  const url = new URL('../../ui/js/station-store.js', import.meta.url).href;
  ({ createStationStore } = (await import(url)) as { createStationStore: () => Store });
});

const at = (s: number): string => new Date(Date.UTC(2026, 0, 1, 10, 0, s)).toISOString();

function ev(seq: number, type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { id: `e${seq}`, seq, type, chargeBoxId: 'CP1', timestamp: at(seq), receivedAt: at(seq), source: 'station', data, ...extra };
}

const snapshotAck = (seq: number, status: string) => ({
  ok: true,
  all: true,
  refused: [],
  replay: [],
  stations: [{
    chargeBoxId: 'CP1',
    seq,
    snapshot: { chargeBoxId: 'CP1', seq, online: true, connectors: [{ connectorId: 1, status, errorCode: 'NoError', timestamp: at(seq) }], openTransactions: [], recentTransactions: [], meter: [] },
    summary: { chargeBoxId: 'CP1', connectorId: 1, status, online: true, soc: 50, seq },
  }],
});

describe('station store', () => {
  it('applies an event once: a repeat with the same id changes nothing and is not listed twice', () => {
    const store = createStationStore();
    const start = ev(1, 'transactionStarted', { idTag: 'T', meterStart: 0, startTime: at(1) }, { transactionId: 7, connectorId: 1 });
    expect(store.applyEvent(start)).toBe(true);
    expect(store.applyEvent(start)).toBe(false);
    expect(store.get('CP1')?.openTx).toHaveLength(1);
    expect(store.get('CP1')?.feed.filter((f) => f.text.includes('#7 started'))).toHaveLength(1);
  });

  it('takes the snapshot, then lists replayed older events without letting them roll the state back', () => {
    const store = createStationStore();
    store.applySubscribe(snapshotAck(5, 'Finishing'));
    // Replayed history (seq ≤ snapshot seq): shown in the feed, not applied again.
    store.applyEvent(ev(4, 'status', { status: 'Charging', errorCode: 'NoError', synthetic: false }, { connectorId: 1 }));
    expect(store.get('CP1')?.connectors.get(1)?.status).toBe('Finishing');
    expect(store.get('CP1')?.feed.map((f) => f.text)).toContain('connector 1: Charging');
    // A newer one moves it.
    store.applyEvent(ev(6, 'status', { status: 'Available', errorCode: 'NoError', synthetic: false }, { connectorId: 1 }));
    expect(store.get('CP1')?.connectors.get(1)?.status).toBe('Available');
    expect(store.get('CP1')?.seq).toBe(6);
  });

  it('names the vehicle message from the replayed event the snapshot was built from', () => {
    const store = createStationStore();
    const ack = snapshotAck(5, 'Preparing');
    const snap = ack.stations[0]!.snapshot as Record<string, unknown>;
    snap.vehicle = { source: 'preChargeData', updatedAt: at(5), soc: 42 };
    store.applySubscribe(ack);
    expect((store.get('CP1') as unknown as { vehicle: { messageId?: string } }).vehicle.messageId).toBeUndefined();
    store.applyEvent(ev(5, 'preChargeData', { messageId: 'PreChargeData', vendorId: 'RivotMotors', soc: 42 }));
    expect((store.get('CP1') as unknown as { vehicle: { messageId?: string } }).vehicle.messageId).toBe('PreChargeData');
  });

  it('asks for a replay after the newest seq it holds, per station', () => {
    const store = createStationStore();
    expect(store.sinceMap()).toEqual({});
    store.applySubscribe(snapshotAck(5, 'Charging'));
    store.applyEvent(ev(9, 'heartbeat', {}));
    expect(store.sinceMap()).toEqual({ CP1: 9 });
  });

  it('ignores a summary older than the one it shows', () => {
    const store = createStationStore();
    store.applySubscribe(snapshotAck(5, 'Charging'));
    store.applySummary({ chargeBoxId: 'CP1', connectorId: 1, status: 'Charging', online: true, soc: 61, seq: 8 });
    store.applySummary({ chargeBoxId: 'CP1', connectorId: 1, status: 'Charging', online: true, soc: 55, seq: 7 });
    expect(store.get('CP1')?.summary?.soc).toBe(61);
  });

  it('closes the open transaction on its stop and follows the link state', () => {
    const store = createStationStore();
    store.applyEvent(ev(1, 'stationConnected', { linkKind: 'ws', upstream: 'local' }));
    store.applyEvent(ev(2, 'transactionStarted', { idTag: 'T', meterStart: 0, startTime: at(2) }, { transactionId: 3, connectorId: 1 }));
    store.applyEvent(ev(3, 'transactionStopped', { meterStop: 10, stopTime: at(3), actor: 'station', energyWh: 10 }, { transactionId: 3, connectorId: 1 }));
    store.applyEvent(ev(4, 'stationDisconnected', { linkKind: 'ws', code: 1006, reason: '' }));
    const st = store.get('CP1');
    expect(st?.openTx).toEqual([]);
    expect(st?.online).toBe(false);
  });

  it('counts each finding once, whether it came live or read from the history, without moving the state', () => {
    const store = createStationStore();
    store.applySubscribe(snapshotAck(5, 'Charging'));
    const finding = ev(9, 'finding', { rule: 'schema', message: 'bad' });
    store.countFindings([finding, ev(8, 'finding', { rule: 'schema', message: 'also bad' }), ev(7, 'status', { status: 'Faulted' })]);
    expect(store.get('CP1')?.findings).toBe(2);
    expect(store.get('CP1')?.seq).toBe(5);
    expect(store.applyEvent(finding)).toBe(false);
    store.applyEvent(ev(10, 'finding', { rule: 'schema', message: 'live' }));
    expect(store.get('CP1')?.findings).toBe(3);
  });

  it('takes fleet entries for stations it does not follow, newest seq wins, findings counted once by id', () => {
    const store = createStationStore();
    const entry = (seq: number, status: string, extra: Record<string, unknown> = {}) => ({
      chargeBoxId: 'CP1', seq, online: true, lastSeen: at(seq), linkKind: 'ws', upstream: 'local', status,
      connectors: [{ connectorId: 1, status, transactionId: status === 'Charging' ? 12 : null }], soc: 40 + seq, power: 7000, model: 'Pro', ...extra,
    });
    const nobody = () => false;
    store.applyFleet([entry(5, 'Charging', { findings: ['f1'] })], nobody);
    let st = store.get('CP1');
    expect(st?.connectors.get(1)?.status).toBe('Charging');
    expect(st?.openTx.map((t) => t.transactionId)).toEqual([12]);
    expect(st?.summary?.soc).toBe(45);
    expect(st?.findings).toBe(1);
    // An older entry does not roll it back; the same finding again is not counted twice.
    store.applyFleet([entry(4, 'Available', { findings: ['f1'] })], nobody);
    expect(store.get('CP1')?.connectors.get(1)?.status).toBe('Charging');
    expect(store.get('CP1')?.findings).toBe(1);
    // A followed station keeps what its events say; a new finding still counts.
    store.applySubscribe(snapshotAck(6, 'Finishing'));
    store.applyFleet([entry(7, 'Available', { findings: ['f2'] })], (id) => id === 'CP1');
    st = store.get('CP1');
    expect(st?.connectors.get(1)?.status).toBe('Finishing');
    expect(st?.findings).toBe(2);
    // Not followed any more: the fleet's newer state applies.
    store.applyFleet([entry(8, 'Available')], nobody);
    expect(store.get('CP1')?.connectors.get(1)?.status).toBe('Available');
    expect(store.get('CP1')?.openTx).toEqual([]);
  });
});
