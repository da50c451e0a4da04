// In-process transport: each connection is a StationLink (kind 'sim') handed to `attach`, so the relay treats a
// simulated station exactly like a WebSocket one. A close from the relay side reaches the station as a dropped
// connection; the station reconnects by asking for a new link. Delivery is asynchronous (microtasks) in both
// directions, in order, so neither side re-enters the other.
import type { StationLink, StationLinkHandlers } from '../links/link.js';
import type { SimConnection, SimConnectionHandlers, SimTransport } from './transport.js';

/** Close code a station-side abrupt drop reports (WebSocket's "abnormal closure"). */
export const ABNORMAL_CLOSURE = 1006;

class SimLink implements StationLink, SimConnection {
  readonly kind = 'sim' as const;
  readonly remoteAddress = 'sim';
  #relay: StationLinkHandlers | undefined;
  #early: string[] | undefined; // station frames sent before the relay attached its handlers
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  constructor(
    readonly chargeBoxId: string,
    private readonly station: SimConnectionHandlers,
  ) {}

  // Relay side (StationLink).
  attach(handlers: StationLinkHandlers): void {
    if (this.#relay) return;
    this.#relay = handlers;
    const early = this.#early;
    this.#early = undefined;
    if (early) for (const text of early) queueMicrotask(() => handlers.message(text));
  }

  send(text: string): boolean {
    if (this.#closed) return false;
    queueMicrotask(() => {
      if (!this.#closed) this.station.message(text);
    });
    return true;
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const relay = this.#relay;
    queueMicrotask(() => {
      relay?.close(code, reason);
      this.station.close(code, reason);
    });
  }

  // Station side (SimConnection): send() above is shared because StationLink.send is relay → station;
  // station → relay goes through fromStation.
  fromStation(text: string): boolean {
    if (this.#closed) return false;
    const relay = this.#relay;
    if (!relay) (this.#early ??= []).push(text);
    else queueMicrotask(() => {
      if (!this.#closed) relay.message(text);
    });
    return true;
  }
}

/** The station's view of a SimLink: its send goes towards the relay. */
class StationEnd implements SimConnection {
  constructor(private readonly link: SimLink) {}
  send(text: string): boolean {
    return this.link.fromStation(text);
  }
  close(code: number, reason: string, abrupt = false): void {
    if (abrupt) this.link.close(ABNORMAL_CLOSURE, 'link lost');
    // A clean close goes after the frames sent before it, as a WebSocket's closing handshake does.
    else queueMicrotask(() => this.link.close(code, reason));
  }
}

export function linkTransport(attach: (link: StationLink) => void): SimTransport {
  return {
    kind: 'link',
    connect(chargeBoxId, handlers) {
      const link = new SimLink(chargeBoxId, handlers);
      const end = new StationEnd(link);
      queueMicrotask(() => {
        try {
          attach(link);
        } catch (err) {
          link.close(1011, `attach failed: ${(err as Error).message}`);
          return;
        }
        if (!link.closed) handlers.open();
      });
      return end;
    },
  };
}
