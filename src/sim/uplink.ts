// A simulated station's connection to its central system, as MicroOcpp keeps it: one at a time through the
// transport, reconnect attempts with exponential backoff and jitter, nothing sent unless it is open.
import type { SimConnection } from './transport.js';
import type { StationEnv } from './station-env.js';

/** What the uplink tells its station (the station itself: no per-station closures). */
export interface UplinkEvents {
  linkOpened(): void;
  linkMessage(text: string): void;
  /** The connection closed from the far side, or could not be made. */
  linkLost(code: number, reason: string): void;
}

export class Uplink {
  #conn: SimConnection | undefined;
  #online = false;
  #backoff = 0;
  #reconnectAt = Infinity;

  constructor(
    private readonly env: StationEnv,
    private readonly id: string,
    /** Read at every connection: a new AuthorizationKey is used from the next one on. */
    private readonly password: () => string | undefined,
    private readonly events: UplinkEvents,
  ) {}

  /** Open: messages can be sent. */
  get online(): boolean {
    return this.#online;
  }

  /** A connection exists (open, or still opening). */
  get connected(): boolean {
    return this.#conn !== undefined;
  }

  /** When the next connection attempt is due (Infinity: none planned). */
  get reconnectAt(): number {
    return this.#reconnectAt;
  }

  connectAt(at: number): void {
    this.#reconnectAt = at;
  }

  resetBackoff(): void {
    this.#backoff = 0;
  }

  connectIfDue(now: number): void {
    if (!this.#conn && this.#reconnectAt <= now) this.#connect();
  }

  send(text: string): boolean {
    return this.#conn?.send(text) ?? false;
  }

  /** Ends the connection (either side). With `retry` the next attempt is planned: backoff doubling, × 0.5–1.0. */
  drop(code: number, reason: string, abrupt: boolean, retry: boolean): void {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#online = false;
    // 1005/1006/1015 are never sent on the wire; anything else outside the sendable range becomes 1000.
    const sendable = code >= 1000 && code <= 4999 && code !== 1005 && code !== 1006 && code !== 1015 ? code : 1000;
    if (conn) conn.close(sendable, reason, abrupt);
    if (retry) {
      const { reconnectMinMs, reconnectMaxMs } = this.env.limits;
      const base = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** this.#backoff);
      this.#backoff = Math.min(this.#backoff + 1, 20);
      this.#reconnectAt = this.env.clock.now() + base * (0.5 + 0.5 * this.env.random());
    }
  }

  #connect(): void {
    this.#reconnectAt = Infinity;
    const handlers = {
      open: () => {
        if (this.#conn !== conn) return;
        this.#online = true;
        this.#backoff = 0;
        this.events.linkOpened();
      },
      message: (text: string) => {
        if (this.#conn === conn) this.events.linkMessage(text);
      },
      close: (code: number, reason: string) => {
        if (this.#conn !== conn) return;
        this.env.logger.debug({ station: this.id, code, reason }, 'sim: link closed');
        this.events.linkLost(code, reason);
      },
    };
    let conn: SimConnection;
    try {
      const password = this.password();
      conn = this.env.transport.connect(this.id, handlers, password !== undefined ? { password } : {});
    } catch (err) {
      // e.g. an invalid target URL: keep trying with backoff rather than going silent.
      this.env.logger.warn({ station: this.id, err }, 'sim: cannot connect');
      this.events.linkLost(1006, 'connect failed');
      return;
    }
    this.#conn = conn;
  }
}
