// Where the JSON log lines go (stdout, as pino's destination): never a write that can block the thread. A pipe whose
// reader is slow, stopped or gone must not stop the relay, the timers or the shutdown: lines wait in the stream's
// own buffer up to a bound, beyond it they are dropped and counted, and once the reader is gone (EPIPE) every line
// is. A plain `{ write }` destination also keeps pino from flushing synchronously at exit.
import type { Writable } from 'node:stream';

export interface LogSinkStats {
  /** Lines handed to the stream. */
  readonly written: number;
  /**
   * Lines dropped: the buffer was full or the stream had failed (its reader gone), counted one by one; and those
   * lost in the buffer when the stream failed or the process exited, counted from their size.
   */
  readonly dropped: number;
  /** Characters waiting in the stream's buffer. */
  readonly bufferedBytes: number;
  /** Why the stream stopped taking lines (e.g. EPIPE), or null. */
  readonly failed: string | null;
}

export class LogSink {
  #written = 0;
  #chars = 0;
  #dropped = 0;
  #failed: string | null = null;

  /**
   * @param out a stream whose writes never block: process.stdout is one for pipes and sockets (libuv writes what
   *   the pipe takes and buffers the rest) and for files (writes to a file complete).
   * @param limitBytes characters that may wait in `out`'s buffer; a line that would exceed it is dropped.
   */
  constructor(private readonly out: Writable, private readonly limitBytes: number) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#failed !== null) return;
      this.#failed = err.code ?? err.message;
      this.#lose(out.writableLength);
    });
  }

  /** pino's destination: one line. */
  write(line: string): void {
    if (this.#failed !== null || this.out.destroyed || this.out.writableLength + line.length > this.limitBytes) {
      this.#dropped++;
      return;
    }
    this.#written++;
    this.#chars += line.length;
    this.out.write(line);
  }

  stats(): LogSinkStats {
    return { written: this.#written, dropped: this.#dropped, bufferedBytes: this.out.writableLength, failed: this.#failed };
  }

  /**
   * Resolves true once every line handed over has left the process, false when `timeoutMs` passed first or the
   * stream failed (what it still held is then lost, and counted as dropped).
   */
  flush(timeoutMs: number): Promise<boolean> {
    const out = this.out;
    if (out.writableLength === 0 || this.#failed !== null || out.destroyed) return Promise.resolve(this.#failed === null);
    return new Promise((resolve) => {
      const started = Date.now();
      // 'drain' comes only after a write that filled the stream: polling sees every end.
      const poll = setInterval(() => {
        if (out.writableLength > 0 && this.#failed === null && !out.destroyed && Date.now() - started < timeoutMs) return;
        clearInterval(poll);
        const left = this.#failed === null && !out.destroyed ? out.writableLength : 0;
        this.#lose(left);
        resolve(left === 0 && this.#failed === null);
      }, 10);
    });
  }

  /** `chars` still buffered are lost: counted as lines of the average length written so far (at least one). */
  #lose(chars: number): void {
    if (chars > 0) this.#dropped += Math.max(1, Math.round(chars / Math.max(1, this.#chars / this.#written)));
  }
}
