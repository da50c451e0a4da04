// The frames of one mirror link (UTF-8 bytes, views into the batch they came in), oldest first, bounded in bytes. A frame stays counted until the socket has
// flushed it, so a mirror that stops reading fills this budget (and then loses frames, counted) instead of the heap.
// Two parallel arrays, emptied whenever everything is flushed (the usual state): no object per frame, and no
// flushed frame kept alive until a compaction (old frames surviving scavenges cost the relay's p99).
export class FrameQueue {
  #texts: Uint8Array[] = [];
  #ats: number[] = [];
  #head = 0;
  /** Index of the first frame not yet handed to the socket. */
  #next = 0;
  #bytes = 0;
  #inSocket = 0;
  dropped = 0;

  constructor(private readonly limit: () => number) {}

  /** O(1): appends, or counts a drop when the budget is full. */
  push(text: Uint8Array, at: number): boolean {
    if (this.#bytes + text.byteLength > this.limit()) {
      this.dropped++;
      return false;
    }
    this.#texts.push(text);
    this.#ats.push(at);
    this.#bytes += text.byteLength;
    return true;
  }

  /** The next frame to write, marked written; undefined when all are. */
  take(): Uint8Array | undefined {
    const text = this.#texts[this.#next];
    if (text === undefined) return undefined;
    this.#next++;
    this.#inSocket += text.byteLength;
    return text;
  }

  /** The oldest `count` written frames were flushed: they leave the budget. */
  flushed(count: number): void {
    for (let i = 0; i < count && this.#head < this.#next; i++) {
      const n = this.#texts[this.#head]!.byteLength;
      this.#bytes -= n;
      this.#inSocket -= n;
      this.#head++;
    }
    if (this.#head === this.#texts.length) {
      this.#texts.length = 0;
      this.#ats.length = 0;
      this.#head = 0;
      this.#next = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#texts.length) {
      this.#texts = this.#texts.slice(this.#head);
      this.#ats = this.#ats.slice(this.#head);
      this.#next -= this.#head;
      this.#head = 0;
    }
  }

  /** The connection went: frames written but not flushed are written again on the next one. */
  rewind(): void {
    this.#next = this.#head;
    this.#inSocket = 0;
  }

  /** Unflushed bytes handed to the socket (the pump keeps this under a high-water mark). */
  get inSocket(): number {
    return this.#inSocket;
  }

  get length(): number {
    return this.#texts.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Age of the oldest frame not yet flushed, in ms (0 when none waits). */
  lagMs(now: number): number {
    const at = this.#ats[this.#head];
    return at === undefined ? 0 : now - at;
  }
}
