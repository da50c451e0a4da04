// Keeps one serial port open: opens it, feeds its bytes to the session, and after an unplug or a failed open
// tries again with exponential backoff until stopped.
import type pino from 'pino';
import { SerialPort } from 'serialport';
import type { SerialPortSpec } from './config.js';
import type { SerialMetrics } from './metrics.js';
import type { SerialSession } from './session.js';

export type PortState = 'opening' | 'open' | 'waiting' | 'stopped';

export interface PortRunnerOptions {
  readonly spec: SerialPortSpec;
  readonly session: (write: (bytes: Buffer) => void) => SerialSession;
  readonly metrics: SerialMetrics;
  readonly logger: pino.Logger;
  readonly reopenMinMs: number;
  readonly reopenMaxMs: number;
}

export class PortRunner {
  readonly session: SerialSession;
  #port: SerialPort | undefined;
  #state: PortState = 'waiting';
  #delay: number;
  #retry: NodeJS.Timeout | undefined;
  #failures = 0;
  #lastError: string | undefined;
  #opens = 0;

  constructor(private readonly o: PortRunnerOptions) {
    this.#delay = o.reopenMinMs;
    this.session = o.session((bytes) => this.#port?.write(bytes));
  }

  get spec(): SerialPortSpec {
    return this.o.spec;
  }
  get state(): PortState {
    return this.#state;
  }
  get lastError(): string | undefined {
    return this.#lastError;
  }
  get opens(): number {
    return this.#opens;
  }

  start(): void {
    if (this.#state === 'stopped') return;
    this.#open();
  }

  #open(): void {
    this.#retry = undefined;
    this.#state = 'opening';
    const { path, baudRate } = this.o.spec;
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) => {
      if (this.#state === 'stopped') {
        if (!err) port.close();
        return;
      }
      if (err) {
        this.o.metrics.opens.inc({ result: 'failed' });
        this.#lastError = err.message;
        // The first failure says why; repeats (a board that stays unplugged) only at debug level.
        const level = this.#failures++ === 0 ? 'warn' : 'debug';
        this.o.logger[level]({ port: path, err: err.message, retryInMs: this.#delay }, 'serial port cannot be opened: retrying');
        this.#scheduleReopen();
        return;
      }
      this.o.metrics.opens.inc({ result: 'ok' });
      this.#opens++;
      this.#failures = 0;
      this.#delay = this.o.reopenMinMs;
      this.#lastError = undefined;
      this.#port = port;
      this.#state = 'open';
      this.o.logger.info({ port: path, baudRate }, 'serial port open');
      port.on('data', (chunk: Buffer) => this.session.data(chunk));
      port.on('error', (e: Error) => {
        this.#lastError = e.message;
        this.o.logger.warn({ port: path, err: e.message }, 'serial port error');
      });
      port.on('close', (e: (Error & { disconnected?: boolean }) | null) => {
        // Only the current port's close counts: a stale one must not start a second reopen loop.
        if (this.#port !== port || this.#state === 'stopped') return;
        this.#port = undefined;
        const why = e?.disconnected ? 'serial port disconnected (unplugged?)' : `serial port closed${e ? `: ${e.message}` : ''}`;
        this.o.logger.warn({ port: path }, why);
        this.session.portClosed(why);
        this.#scheduleReopen();
      });
      this.session.opened();
    });
  }

  #scheduleReopen(): void {
    if (this.#retry) clearTimeout(this.#retry);
    this.#state = 'waiting';
    this.#retry = setTimeout(() => this.#open(), this.#delay);
    this.#delay = Math.min(this.o.reopenMaxMs, this.#delay * 2);
  }

  async stop(): Promise<void> {
    this.#state = 'stopped';
    if (this.#retry) clearTimeout(this.#retry);
    this.session.stop();
    const port = this.#port;
    this.#port = undefined;
    if (!port?.isOpen) return;
    // Let the board's "down" line leave before the port closes.
    await new Promise<void>((resolve) => port.drain(() => resolve()));
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
