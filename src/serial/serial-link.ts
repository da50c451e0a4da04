// A board's OCPP-J stream as a StationLink of kind 'serial'. The session owns the bytes; this object is what the
// relay sees, and it enforces the link contract: nothing delivered before attach, close reported once.
import type { StationLink, StationLinkHandlers } from '../links/link.js';

export interface SerialLinkOwner {
  send(text: string): void;
  /** The relay closed the link: tell the board and forget the board's session. */
  closeFromRelay(code: number, reason: string): void;
}

export class SerialStationLink implements StationLink {
  readonly kind = 'serial' as const;
  #handlers: StationLinkHandlers | undefined;
  #early: string[] = [];
  #closed = false;

  constructor(
    readonly chargeBoxId: string,
    readonly remoteAddress: string,
    /** The board's `max` from its hello. */
    readonly maxMessageBytes: number,
    private readonly owner: SerialLinkOwner,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  attach(handlers: StationLinkHandlers): void {
    this.#handlers = handlers;
    const early = this.#early;
    this.#early = [];
    for (const text of early) handlers.message(text);
  }

  send(text: string): void {
    if (!this.#closed) this.owner.send(text);
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.owner.closeFromRelay(code, reason);
    this.#handlers?.close(code, reason);
  }

  // ── from the session ──

  deliver(text: string): void {
    if (this.#closed) return;
    if (this.#handlers) this.#handlers.message(text);
    else this.#early.push(text);
  }

  refuse(description: string): void {
    if (!this.#closed) this.#handlers?.refused?.(description);
  }

  /** The board or the port went away. */
  ended(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers?.close(code, reason);
  }
}
