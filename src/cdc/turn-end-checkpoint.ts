// When a binlog position is recorded: at the end of the event-loop turn in which its transaction's events were
// handed to the bus, after the writes those events caused in that turn. The event history writes binlog events to
// its journal at the end of the turn (setImmediate, events/history.ts); a position recorded before that write
// would let a kill -9 between the two lose the events for good (the reader resumes past them, the journal never
// had them). Recording after it costs a crash at most the transactions of one turn, read again with the same ids.
// It also takes the checkpoint's write out of the path from commit to client: the fan-out writes first.
// A position with no events behind it (a transaction in a table or schema the reader does not follow) is written
// at most once per MOVED_EVERY_MS: read again after a crash, such transactions give nothing, and a server busy with
// other databases cost the reader a write per transaction (BENCHMARKS.md, "The checkpoint's cost").
import type { Checkpoint } from './checkpoint.js';

/** How often, at most, a position that only moved is written. */
export const MOVED_EVERY_MS = 1000;

export class TurnEndCheckpoint {
  #pending: Checkpoint | undefined;
  #durable = false;
  #immediate: NodeJS.Immediate | undefined;
  /** The wait before a moved-only position is written. */
  #timer: NodeJS.Timeout | undefined;
  #lastWriteAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly write: (cp: Checkpoint, durable: boolean) => void,
    private readonly movedEveryMs = MOVED_EVERY_MS,
  ) {}

  /**
   * A transaction's events were just handed on: its position is written after everything they scheduled so far
   * this turn (a write already queued for the turn is queued again, behind them).
   */
  afterEvents(cp: Checkpoint, durable = false): void {
    this.#set(cp, durable);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = setImmediate(this.#run);
  }

  /**
   * Only the position moved (a transaction without events): it shares a write already queued for this turn, or
   * waits for the next one, MOVED_EVERY_MS after the last at the latest (still at the end of a turn).
   */
  moved(cp: Checkpoint): void {
    this.#set(cp, false);
    if (this.#immediate || this.#timer) return;
    const wait = this.#lastWriteAt + this.movedEveryMs - performance.now();
    if (wait <= 0) this.#immediate = setImmediate(this.#run);
    else {
      this.#timer = setTimeout(this.#due, wait);
      this.#timer.unref();
    }
  }

  /**
   * Writes what is pending now, or `cp` in its place (a stop's last position, once `turnEnded` has let the turn's
   * other writes go first).
   */
  flush(cp?: Checkpoint, durable = false): void {
    if (cp) this.#set(cp, durable);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#run();
  }

  #set(cp: Checkpoint, durable: boolean): void {
    this.#pending = cp;
    this.#durable ||= durable;
  }

  /** A moved-only position's wait is over: written at the end of this turn, like any other. */
  readonly #due = (): void => {
    this.#timer = undefined;
    if (this.#pending) this.#immediate ??= setImmediate(this.#run);
  };

  readonly #run = (): void => {
    this.#immediate = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const cp = this.#pending;
    const durable = this.#durable;
    this.#pending = undefined;
    this.#durable = false;
    if (!cp) return;
    this.#lastWriteAt = performance.now();
    this.write(cp, durable);
  };
}

/** Resolves after the writes already queued for the end of this turn (a stop's last position goes after them). */
export function turnEnded(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
