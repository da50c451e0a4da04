// One station's frames in arrival order while a large one is being decoded off the event loop (frame-decoder.ts):
// what comes behind it waits here, so the relay still handles a station's frames strictly one after another. Empty
// (the usual case) it costs one check per frame. A station that sends faster than the thread decodes fills it up to
// INBOX_MAX_BYTES; then its link stops reading until the inbox has drained (the station's frames wait in TCP, and
// nobody else waits for them). A link that cannot pause, or frames still arriving past twice the budget, are decoded
// in place, as before there was a thread.
import type { Decoded, FrameDecoder, HeadRequest } from './frame-decoder.js';

/** Bytes waiting behind the frame on the thread (text counted at 2 bytes a character). */
export const INBOX_MAX_BYTES = 1024 * 1024;
/** How long one turn may handle a station's waiting frames: a backlog drained at once held every other station up
 * (49 ms seen under fuzz, BENCHMARKS.md). The rest goes on the next turn; the station's order holds. */
export const PUMP_SLICE_MS = 1;

/** What the inbox asks of the station's link when it is full. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export interface InboxHandlers {
  text(text: string): void;
  /** A frame the link refused itself (binary, invalid UTF-8), as a description. */
  refused(description: string): void;
  /** A large frame refused from its head alone (large-frame.ts): true when handled, so it is never decoded. */
  refusedByHead(bytes: Buffer): boolean;
  /** How much of a large frame is wanted back from the decoder's thread (frame-decoder.ts); undefined: all of it. */
  head(bytes: Buffer): HeadRequest | undefined;
  decoded(bytes: Buffer, d: Decoded): void;
}

/** `size`: what the item counts against INBOX_MAX_BYTES. */
type Item =
  | { readonly kind: 'text'; readonly text: string; readonly size: number }
  | { readonly kind: 'refused'; readonly description: string; readonly size: number }
  | { readonly kind: 'bytes'; readonly bytes: Buffer; readonly size: number; sent: boolean; decoded: Decoded | undefined };

export class StationInbox {
  #items: Item[] = [];
  #bytes = 0;
  #pumping = false;
  #dropped = false;
  #paused = false;
  #scheduled = false;

  constructor(
    private readonly decoder: FrameDecoder,
    private readonly handlers: InboxHandlers,
    private readonly link?: Pausable,
  ) {}

  /** Nothing waits: a text frame can be handled at once. */
  get idle(): boolean {
    return this.#items.length === 0;
  }

  text(text: string): void {
    this.#add({ kind: 'text', text, size: 2 * text.length });
  }

  refused(description: string): void {
    this.#add({ kind: 'refused', description, size: 2 * description.length });
  }

  bytes(bytes: Buffer): void {
    this.#add({ kind: 'bytes', bytes, size: bytes.length, sent: false, decoded: undefined });
  }

  /** Whatever waits is handled now, a frame still on the decoder's thread decoded in place (the link is closing, or
   * the inbox is over its budget). */
  flush(): void {
    for (const item of this.#items) if (item.kind === 'bytes' && item.decoded === undefined) item.decoded = this.decoder.decodeInPlace(item.bytes);
    this.#pump(true);
  }

  /** The session ended: nothing more is handled, and late answers from the decoder are ignored. */
  drop(): void {
    this.#dropped = true;
    this.#items = [];
    this.#bytes = 0;
  }

  #add(item: Item): void {
    if (this.#dropped) return;
    this.#items.push(item);
    this.#bytes += item.size;
    if (this.#items.length > 1 && this.#bytes > INBOX_MAX_BYTES) {
      if (this.link !== undefined && this.#bytes <= 2 * INBOX_MAX_BYTES) {
        if (!this.#paused) {
          this.#paused = true;
          this.decoder.counters.inboxPauses++;
          this.link.pause();
        }
      } else {
        this.decoder.counters.inboxFlushes++;
        return this.flush();
      }
    }
    this.#pump();
  }

  /** Bound once: the next turn's share of a backlog. */
  readonly #resume = (): void => {
    this.#scheduled = false;
    this.#pump();
  };

  /** Handles what waits, in order, for up to PUMP_SLICE_MS (everything with `all`: a flush must leave nothing). */
  #pump(all = false): void {
    // A decode answered in place re-enters through its callback: the loop below carries on with it.
    if (this.#pumping) return;
    this.#pumping = true;
    const deadline = all ? Number.POSITIVE_INFINITY : performance.now() + PUMP_SLICE_MS;
    try {
      while (this.#items.length > 0 && !this.#dropped) {
        const item = this.#items[0]!;
        if (item.kind === 'bytes' && item.decoded === undefined) {
          if (item.sent) return;
          if (this.handlers.refusedByHead(item.bytes)) {
            this.#items.shift();
            this.#bytes -= item.size;
            continue;
          }
          item.sent = true;
          this.decoder.decode(item.bytes, (d) => {
            if (item.decoded !== undefined || this.#dropped) return;
            item.decoded = d;
            this.#pump();
          }, this.handlers.head(item.bytes));
          if (item.decoded === undefined) return;
        }
        this.#items.shift();
        this.#bytes -= item.size;
        if (item.kind === 'text') this.handlers.text(item.text);
        else if (item.kind === 'refused') this.handlers.refused(item.description);
        else if (item.decoded !== undefined) this.handlers.decoded(item.bytes, item.decoded);
        if (this.#items.length > 0 && performance.now() >= deadline) {
          if (!this.#scheduled) {
            this.#scheduled = true;
            setImmediate(this.#resume);
          }
          return;
        }
      }
    } finally {
      this.#pumping = false;
      // Drained to half the budget: the station is read again.
      if (this.#paused && !this.#dropped && this.#bytes <= INBOX_MAX_BYTES / 2) {
        this.#paused = false;
        this.link?.resume();
      }
    }
  }
}
