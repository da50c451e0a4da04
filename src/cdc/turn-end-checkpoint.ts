// When a binlog position is recorded: at the end of the event-loop turn in which its transaction's events were
// handed to the bus, after the writes those events caused in that turn. The event history writes binlog events to
// its journal at the end of the turn (setImmediate, events/history.ts); a position recorded before that write
// would let a kill -9 between the two lose the events for good (the reader resumes past them, the journal never
// had them). Recording after it costs a crash at most the transactions of one turn, read again with the same ids.
// It also takes the checkpoint's write out of the path from commit to client: the fan-out writes first.
import type { Checkpoint } from './checkpoint.js';

export class TurnEndCheckpoint {
  #pending: Checkpoint | undefined;
  #durable = false;
  #immediate: NodeJS.Immediate | undefined;

  constructor(private readonly write: (cp: Checkpoint, durable: boolean) => void) {}

  /**
   * A transaction's events were just handed on: its position is written after everything they scheduled so far
   * this turn (a write already queued for the turn is queued again, behind them).
   */
  afterEvents(cp: Checkpoint, durable = false): void {
    this.#set(cp, durable);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#immediate = setImmediate(this.#run);
  }

  /** Only the position moved (a transaction without events): it shares the turn's one write. */
  moved(cp: Checkpoint): void {
    this.#set(cp, false);
    this.#immediate ??= setImmediate(this.#run);
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

  readonly #run = (): void => {
    this.#immediate = undefined;
    const cp = this.#pending;
    const durable = this.#durable;
    this.#pending = undefined;
    this.#durable = false;
    if (cp) this.write(cp, durable);
  };
}

/** Resolves after the writes already queued for the end of this turn (a stop's last position goes after them). */
export function turnEnded(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
