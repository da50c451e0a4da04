// The frames of one mirror link, oldest first, bounded in characters. A frame stays counted until the socket has
// flushed it, so a mirror that stops reading fills this budget (and then loses frames, counted) instead of the heap.
interface Item {
  readonly text: string;
  readonly at: number;
}

export class FrameQueue {
  #items: Item[] = [];
  #head = 0;
  /** Index of the first frame not yet handed to the socket. */
  #next = 0;
  #bytes = 0;
  #inSocket = 0;
  dropped = 0;

  constructor(private readonly limit: () => number) {}

  /** O(1): appends, or counts a drop when the budget is full. */
  push(text: string, at: number): boolean {
    if (this.#bytes + text.length > this.limit()) {
      this.dropped++;
      return false;
    }
    this.#items.push({ text, at });
    this.#bytes += text.length;
    return true;
  }

  /** The next frame to write, marked written; undefined when all are. */
  take(): string | undefined {
    const item = this.#items[this.#next];
    if (item === undefined) return undefined;
    this.#next++;
    this.#inSocket += item.text.length;
    return item.text;
  }

  /** The oldest `count` written frames were flushed: they leave the budget. */
  flushed(count: number): void {
    for (let i = 0; i < count && this.#head < this.#next; i++) {
      const item = this.#items[this.#head]!;
      this.#bytes -= item.text.length;
      this.#inSocket -= item.text.length;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
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
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Age of the oldest frame not yet flushed, in ms (0 when none waits). */
  lagMs(now: number): number {
    const item = this.#items[this.#head];
    return item === undefined ? 0 : now - item.at;
  }
}
