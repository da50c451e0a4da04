// Buffers that carry large frames to the decoder's thread and come back with its answer, kept for the next frames.
// A fresh buffer is pages never touched: on the bench machine of 2026-12-07 each MiB cost 3 ms of page faults on the
// relay's thread (BENCHMARKS.md, "Fuzz"), so a recycled one saves a large frame that much.

/** Buffers come in powers of two from this size, so that a returned one fits the next frames of about its size. */
const MIN_CLASS = 64 * 1024;

export class TransferPool {
  #free: ArrayBuffer[] = [];
  #bytes = 0;

  /** @param maxBytes what the pool keeps at most between frames */
  constructor(private readonly maxBytes: number) {}

  /** A buffer of at least `size` bytes: a kept one when one fits, else a new one. */
  take(size: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const length = this.#free[i]!.byteLength;
      if (length >= size && (best < 0 || length < this.#free[best]!.byteLength)) best = i;
    }
    if (best < 0) return new ArrayBuffer(sizeClass(size));
    const [buffer] = this.#free.splice(best, 1) as [ArrayBuffer];
    this.#bytes -= buffer.byteLength;
    return buffer;
  }

  /** A buffer back from the thread; kept while the pool has room (a detached one has no bytes and is not). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || this.#bytes + buffer.byteLength > this.maxBytes) return;
    this.#free.push(buffer);
    this.#bytes += buffer.byteLength;
  }

  get bytes(): number {
    return this.#bytes;
  }
}

function sizeClass(size: number): number {
  let n = MIN_CLASS;
  while (n < size) n *= 2;
  return n;
}
