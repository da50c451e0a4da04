// One binlog connection (@vlasky/zongji) as a replica: row changes and commits of SteVe's tables, in order,
// with the resume coordinates at each commit. A silent dead connection is caught with the server heartbeat.
import ZongJi, { type AnyBinlogEvent, type DeleteRowsEvent, type RowData, type UpdateRowData, type UpdateRowsEvent, type WriteRowsEvent } from '@vlasky/zongji';
import type { Checkpoint } from './checkpoint.js';
import type { CdcConfig } from './config.js';
import { binlogOptions } from './db.js';
import { classifyStatement, type StatementKind } from './statements.js';
import type { RowOp } from './translate.js';

export type StreamItem =
  | {
      readonly kind: 'rows';
      readonly table: string;
      readonly op: RowOp;
      readonly rows: readonly RowData[] | readonly UpdateRowData[];
      /** Transaction key (GTID, or file:position of its start) and index of the first row in it. */
      readonly key: string;
      readonly firstIndex: number;
      /** What the statement behind these rows was (from its ANNOTATE_ROWS text; 'none' without one). */
      readonly statement: StatementKind;
    }
  | { readonly kind: 'commit'; readonly key: string; readonly checkpoint: Checkpoint; readonly eventTimeMs: number }
  | { readonly kind: 'alive' };

export interface StreamStart {
  readonly gtid?: string;
  readonly file?: string;
  readonly position?: number;
}

export interface StreamHandlers {
  item(item: StreamItem): void;
  /** Called at most once per stream; the stream is dead afterwards. */
  error(err: Error): void;
  ready(): void;
}

const ROW_EVENTS = { writerows: 'insert', updaterows: 'update', deleterows: 'delete' } as const;

export class BinlogStream {
  readonly #z: ZongJi;
  #failed = false;
  #stopped = false;
  #lastSeen = Date.now();
  #paused = false;
  #watchdog: NodeJS.Timeout | undefined;
  #txKey: string | undefined;
  #rowIndex = 0;
  /** The kind of the current statement; only this, not its text, is kept. */
  #statement: StatementKind = 'none';

  constructor(
    private readonly config: CdcConfig,
    private readonly tables: readonly string[],
    private readonly on: StreamHandlers,
  ) {
    this.#z = new ZongJi(binlogOptions(config));
    this.#z.on('error', (err: Error) => this.#fail(err));
    this.#z.on('binlog', (ev: AnyBinlogEvent) => this.#event(ev));
    this.#z.on('ready', () => {
      this.#lastSeen = Date.now();
      // Sent before the dump command is queued: the server then emits a heartbeat whenever it has nothing to send.
      this.#z.connection?.query(`SET @master_heartbeat_period = ${BigInt(this.config.heartbeatMs) * 1_000_000n}`, () => undefined);
      this.on.ready();
    });
  }

  start(from: StreamStart): void {
    const base = {
      serverId: this.config.serverId,
      requestAnnotateRows: true,
      includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query', 'heartbeat', 'annotaterows'],
      includeSchema: { [this.config.database]: [...this.tables] },
    };
    if (from.gtid !== undefined) this.#z.start({ ...base, gtidSet: from.gtid });
    else if (from.file !== undefined && from.position !== undefined) this.#z.start({ ...base, filename: from.file, position: from.position });
    else this.#z.start({ ...base, startAtEnd: true });
    const period = this.config.heartbeatMs;
    this.#watchdog = setInterval(() => {
      if (this.#paused) return;
      const silent = Date.now() - this.#lastSeen;
      if (silent > 3 * period + 1000) this.#fail(new Error(`no binlog event or heartbeat for ${Math.round(silent / 1000)} s: connection presumed dead`));
    }, Math.min(period, 5000));
    this.#watchdog.unref();
  }

  /** Hold the socket while the consumer looks something up; the server's events wait in TCP buffers. */
  pause(): void {
    this.#paused = true;
    this.#z.connection?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#lastSeen = Date.now();
    this.#z.connection?.resume();
  }

  stop(): Promise<void> {
    if (this.#watchdog) clearInterval(this.#watchdog);
    if (this.#stopped) return Promise.resolve();
    this.#stopped = true;
    return new Promise((resolve) => {
      const done = setTimeout(resolve, 2000);
      this.#z.once('stopped', () => {
        clearTimeout(done);
        resolve();
      });
      this.#z.stop();
    });
  }

  #fail(err: Error): void {
    if (this.#failed || this.#stopped) return;
    this.#failed = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.on.error(err);
  }

  #event(ev: AnyBinlogEvent): void {
    if (this.#failed || this.#stopped) return;
    this.#lastSeen = Date.now();
    const name = ev.getEventName();
    switch (name) {
      case 'writerows':
      case 'updaterows':
      case 'deleterows': {
        const e = ev as WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent;
        const table = e.tableMap[e.tableId]?.tableName;
        if (table === undefined) return;
        const key = this.#key(ev);
        this.on.item({ kind: 'rows', table, op: ROW_EVENTS[name], rows: e.rows, key, firstIndex: this.#rowIndex, statement: this.#statement });
        this.#rowIndex += e.rows.length;
        return;
      }
      case 'annotaterows':
        this.#statement = classifyStatement((ev as Extract<AnyBinlogEvent, { getEventName(): 'annotaterows' }>).statement);
        return;
      case 'xid':
        return this.#commit(ev);
      case 'query': {
        const q = (ev as Extract<AnyBinlogEvent, { getEventName(): 'query' }>).query.trim().toUpperCase();
        if (q === 'COMMIT' && this.#txKey !== undefined) this.#commit(ev);
        return;
      }
      case 'heartbeat':
        this.on.item({ kind: 'alive' });
        return;
      default:
        return;
    }
  }

  #key(ev: AnyBinlogEvent): string {
    if (this.#txKey === undefined) {
      this.#txKey = ev.gtid ?? `${this.#z.options.filename ?? ''}:${this.#z.options.position ?? 0}`;
      this.#rowIndex = 0;
    }
    return this.#txKey;
  }

  #commit(ev: AnyBinlogEvent): void {
    const key = this.#txKey ?? ev.gtid ?? `${this.#z.options.filename ?? ''}:${this.#z.options.position ?? 0}`;
    const gtid = this.#z.gtidSet;
    const file = this.#z.options.filename;
    const position = this.#z.options.position;
    this.on.item({
      kind: 'commit',
      key,
      eventTimeMs: ev.timestamp,
      checkpoint: {
        ...(gtid !== undefined ? { gtid } : {}),
        ...(file !== undefined && position !== undefined ? { file, position } : {}),
        updatedAt: new Date().toISOString(),
      },
    });
    this.#txKey = undefined;
    this.#rowIndex = 0;
    this.#statement = 'none';
  }
}

/** MySQL/MariaDB error 1236: the requested binlog position or GTID state is no longer on the server. */
export function isPurgedBinlog(err: unknown): boolean {
  const e = err as { errno?: number; code?: string; message?: string };
  return e.errno === 1236 || /ER_(MASTER|SOURCE)_FATAL_ERROR_READING_BINLOG/.test(String(e.code)) || /purged|could not find (first log|gtid state)/i.test(String(e.message));
}
