// What the station state must not forget across a restart although its events may have left the history (which
// keeps the last N events per station; a long session's meter values push the start and the statuses out): the
// open transactions and each connector's status, in DATA_DIR/station-state.json. Written after a change to either
// (start, stop, reboot, resync, status), at most once per second and never on the relay's path (one small
// synchronous write off a timer, like the history's); read once at start. A crash loses at most the last second,
// which the history still holds.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ConnectorState, TransactionRecord } from './state-types.js';

export type OpenTransaction = TransactionRecord & { readonly chargeBoxId: string };
export type KeptStatus = ConnectorState & { readonly chargeBoxId: string };

export interface StateKeep {
  readonly openTransactions: readonly OpenTransaction[];
  readonly connectors: readonly KeptStatus[];
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
  #lastWrite = 0;
  #source: (() => StateKeep) | undefined;

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

  /** Write what `source` returns soon: at once (next turn) after a quiet second, else at the end of the second. */
  schedule(source: () => StateKeep): void {
    this.#source = source;
    if (this.#scheduled) return;
    this.#scheduled = setTimeout(() => {
      this.#scheduled = undefined;
      this.#write();
    }, Math.max(0, this.#lastWrite + WRITE_INTERVAL_MS - Date.now()));
    this.#scheduled.unref();
  }

  /** Write now if a write is pending (at stop). */
  flush(): void {
    if (!this.#scheduled) return;
    clearTimeout(this.#scheduled);
    this.#scheduled = undefined;
    this.#write();
  }

  #write(): void {
    const keep = this.#source?.();
    if (!keep) return;
    this.#lastWrite = Date.now();
    const out: StateKeep = {
      openTransactions: this.#newest(keep.openTransactions, (t) => t.startTime, 'open transactions'),
      connectors: this.#newest(keep.connectors, (c) => c.timestamp, 'connector statuses'),
    };
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(`${this.file}.tmp`, JSON.stringify(out));
      renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.counters.writeErrors++;
      this.logger.error({ err: String(err), file: this.file }, 'cannot write the kept station state');
    }
  }

  #newest<T>(all: readonly T[], time: (x: T) => string, what: string): readonly T[] {
    if (all.length <= MAX_KEPT) return all;
    const kept = [...all].sort((a, b) => (time(a) < time(b) ? 1 : -1)).slice(0, MAX_KEPT);
    this.counters.dropped += all.length - kept.length;
    this.logger.warn({ what, total: all.length, kept: kept.length }, 'more than the restart keep holds; the oldest are left out');
    return kept;
  }
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
