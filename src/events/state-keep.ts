// What the station state must not forget across a restart although its events may have left the history (which
// keeps the last N events per station; a long session's meter values push the start and the statuses out): the
// open transactions and each connector's status, in DATA_DIR/station-state.json. Written after a change to either
// (start, stop, reboot, resync, status), at most once per second and never on the relay's path: the file is written
// and renamed in the thread pool (a synchronous rename held the event loop for about 1 ms per write in the binlog
// push bench, in every relayed and pushed message's way), and only the stations that changed since the last write are
// serialised again (the whole state of a thousand connectors took 1–2 ms of the event loop per write); read once at
// start. A crash loses at most the last second, which the history still holds.
import { mkdirSync, readFileSync, rename, renameSync, writeFile, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ConnectorState, TransactionRecord } from './state-types.js';

export type OpenTransaction = TransactionRecord & { readonly chargeBoxId: string };

export type KeptStatus = ConnectorState & { readonly chargeBoxId: string };

export interface StateKeep {
  readonly openTransactions: readonly OpenTransaction[];
  readonly connectors: readonly KeptStatus[];
}

/** Where the file's content comes from: one station's records, the stations there are, and all at once (past MAX_KEPT). */
export interface KeepSource {
  ids(): Iterable<string>;
  station(chargeBoxId: string): StateKeep;
  all(): StateKeep;
}

/** One station's records as JSON, ready to join (comma-separated, '' when none). */
interface Fragment {
  readonly openTransactions: string;
  readonly connectors: string;
  readonly txCount: number;
  readonly connectorCount: number;
}

/** At most this many of each are written (one per connector is the norm); beyond it the oldest are left out, counted. */
export const MAX_KEPT = 100_000;

/** Changes within this long share one write. */
const WRITE_INTERVAL_MS = 1000;

export class StateKeepFile {
  readonly file: string;
  /** Records left out of the file because of MAX_KEPT, and failed writes. */
  readonly counters = { dropped: 0, writeErrors: 0 };
  #scheduled: NodeJS.Timeout | undefined;
  /** The write in the thread pool; one at a time, so an older state can never be renamed over a newer one. */
  #writing: Promise<void> | undefined;
  /** A change came while a write was in flight: written again after it. */
  #again = false;
  #lastWrite = 0;
  #source: KeepSource | undefined;
  /** Per station, its records as last serialised; undefined until the first write has read the whole state. */
  #fragments: Map<string, Fragment> | undefined;
  /** Stations changed since their fragment was made. */
  readonly #touched = new Set<string>();

  constructor(
    dataDir: string,
    private readonly logger: Logger,
  ) {
    this.file = path.join(dataDir, 'station-state.json');
  }

  load(): StateKeep {
    const empty: StateKeep = { openTransactions: [], connectors: [] };
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return empty;
    }
    try {
      const parsed = JSON.parse(text) as { openTransactions?: unknown; connectors?: unknown } | null;
      return {
        openTransactions: Array.isArray(parsed?.openTransactions) ? parsed.openTransactions.filter(isOpenTransaction) : [],
        connectors: Array.isArray(parsed?.connectors) ? parsed.connectors.filter(isKeptStatus) : [],
      };
    } catch (err) {
      this.logger.warn({ err: String(err), file: this.file }, 'kept station state unreadable; starting from the history alone');
      return empty;
    }
  }

  /** The station's state changed (any event): its records are serialised again at the next write. */
  touched(chargeBoxId: string): void {
    this.#touched.add(chargeBoxId);
  }

  /** Write what `source` holds soon: at once (next turn) after a quiet second, else at the end of the second. */
  schedule(source: KeepSource): void {
    this.#source = source;
    if (this.#scheduled) return;
    if (this.#writing) {
      this.#again = true;
      return;
    }
    this.#scheduled = setTimeout(() => {
      this.#scheduled = undefined;
      this.#start();
    }, Math.max(0, this.#lastWrite + WRITE_INTERVAL_MS - Date.now()));
    this.#scheduled.unref();
  }

  /** At stop: waits for a write in flight, then writes at once what is pending (synchronously: the process may end next). */
  async flush(): Promise<void> {
    let pending = this.#takePending();
    // A write in flight may ask for another when it ends: that one is written here instead.
    while (this.#writing) await this.#writing;
    pending = this.#takePending() || pending;
    if (!pending) return;
    const text = this.#text();
    if (text === undefined) return;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(`${this.file}.tmp`, text);
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.#failed(err);
    }
  }

  #start(): void {
    const text = this.#text();
    if (text === undefined) return;
    const tmp = `${this.file}.tmp`;
    // Callbacks, not fs/promises: its file handles cost the event loop more than the synchronous write did.
    this.#writing = new Promise<void>((resolve) => {
      const done = (err: NodeJS.ErrnoException | null): void => {
        if (err) this.#failed(err);
        resolve();
      };
      try {
        mkdirSync(path.dirname(this.file), { recursive: true });
      } catch (err) {
        done(err as NodeJS.ErrnoException);
        return;
      }
      writeFile(tmp, text, (err) => (err ? done(err) : rename(tmp, this.file, done)));
    }).finally(() => {
      this.#writing = undefined;
      if (!this.#again || !this.#source) return;
      this.#again = false;
      this.schedule(this.#source);
    });
  }

  /** Whether a write was due (timer or a change during a write); cancels it, for flush to write instead. */
  #takePending(): boolean {
    const pending = this.#again || this.#scheduled !== undefined;
    if (this.#scheduled) clearTimeout(this.#scheduled);
    this.#scheduled = undefined;
    this.#again = false;
    return pending;
  }

  /** The file's text now (the state as it is when the write starts). */
  #text(): string | undefined {
    const source = this.#source;
    if (!source) return undefined;
    this.#lastWrite = Date.now();
    let fragments = this.#fragments;
    if (!fragments) {
      // The first write reads every station.
      fragments = new Map();
      for (const id of source.ids()) fragments.set(id, fragmentOf(source.station(id)));
      this.#fragments = fragments;
    } else {
      for (const id of this.#touched) fragments.set(id, fragmentOf(source.station(id)));
    }
    this.#touched.clear();
    let txCount = 0;
    let connectorCount = 0;
    const txs: string[] = [];
    const conns: string[] = [];
    for (const f of fragments.values()) {
      txCount += f.txCount;
      connectorCount += f.connectorCount;
      if (f.openTransactions) txs.push(f.openTransactions);
      if (f.connectors) conns.push(f.connectors);
    }
    if (txCount > MAX_KEPT || connectorCount > MAX_KEPT) return this.#newestText(source.all());
    return `{"openTransactions":[${txs.join(',')}],"connectors":[${conns.join(',')}]}`;
  }

  /** Past MAX_KEPT of either kind: the newest of each, counted as dropped. */
  #newestText(keep: StateKeep): string {
    const out: StateKeep = {
      openTransactions: this.#newest(keep.openTransactions, (t) => t.startTime, 'open transactions'),
      connectors: this.#newest(keep.connectors, (c) => c.timestamp, 'connector statuses'),
    };
    return JSON.stringify(out);
  }

  #failed(err: unknown): void {
    this.counters.writeErrors++;
    this.logger.error({ err: String(err), file: this.file }, 'cannot write the kept station state');
  }

  #newest<T>(all: readonly T[], time: (x: T) => string, what: string): readonly T[] {
    if (all.length <= MAX_KEPT) return all;
    const kept = [...all].sort((a, b) => (time(a) < time(b) ? 1 : -1)).slice(0, MAX_KEPT);
    this.counters.dropped += all.length - kept.length;
    this.logger.warn({ what, total: all.length, kept: kept.length }, 'more than the restart keep holds; the oldest are left out');
    return kept;
  }
}

function fragmentOf(keep: StateKeep): Fragment {
  const json = (records: readonly object[]): string => records.map((r) => JSON.stringify(r)).join(',');
  return { openTransactions: json(keep.openTransactions), connectors: json(keep.connectors), txCount: keep.openTransactions.length, connectorCount: keep.connectors.length };
}

function isKeptStatus(v: unknown): v is KeptStatus {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.chargeBoxId === 'string' &&
    typeof o.connectorId === 'number' &&
    typeof o.status === 'string' &&
    typeof o.errorCode === 'string' &&
    typeof o.timestamp === 'string' &&
    typeof o.synthetic === 'boolean' &&
    (o.source === 'station' || o.source === 'steve')
  );
}

function isOpenTransaction(v: unknown): v is OpenTransaction {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.chargeBoxId === 'string' &&
    typeof o.idTag === 'string' &&
    typeof o.startTime === 'string' &&
    typeof o.meterStart === 'number' &&
    o.open === true &&
    (o.source === 'station' || o.source === 'steve') &&
    (o.transactionId === undefined || typeof o.transactionId === 'number') &&
    (o.connectorId === undefined || typeof o.connectorId === 'number')
  );
}
