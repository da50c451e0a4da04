// When a Reset the central system asked for takes effect. Hard: at once (the stop messages are replayed after the
// boot); soft: once the transaction messages are out, but no later than a deadline.
const RESET_DELAY_MS = 500;
const SOFT_RESET_DEADLINE_MS = 10_000;

export class PendingReset {
  #at = Infinity;
  #softDeadline = Infinity;

  /** When the station reboots (Infinity: no reset pending). */
  get at(): number {
    return this.#at;
  }

  schedule(hard: boolean, now: number, holdsTransactionMessages: boolean): void {
    if (hard) this.#at = now + RESET_DELAY_MS;
    else {
      this.#softDeadline = now + SOFT_RESET_DEADLINE_MS;
      this.#at = holdsTransactionMessages ? this.#softDeadline : now + RESET_DELAY_MS;
    }
  }

  /** The outbox is empty: a soft reset need wait no longer. */
  outboxDrained(now: number): void {
    if (this.#softDeadline < Infinity) this.#at = Math.min(this.#at, now + RESET_DELAY_MS);
  }

  /** The station is rebooting. */
  clear(): void {
    this.#at = Infinity;
    this.#softDeadline = Infinity;
  }
}
