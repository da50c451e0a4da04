// A simulated station's StatusNotifications, as MicroOcpp sends them: a connector's status is re-derived from its
// inputs after every change and reported when it differs from what was last queued; what the central system
// confirmed is remembered, so a reconnect re-reports only what it never acknowledged.
import type { Connector } from './connector.js';
import type { Defects } from './defects.js';
import type { Outbox } from './outbox.js';
import { iso, type StationEnv } from './station-env.js';

/** What the statuses need from their station (the station itself: no per-station closures). */
export interface StatusesHost {
  /** Index 0 is the charge point itself. */
  readonly connectors: readonly Connector[];
  readonly defects: Defects | undefined;
  linkOpen(): boolean;
  bootAccepted(): boolean;
}

export class Statuses {
  /** The whole charge point made Unavailable (ChangeAvailability on connector 0). */
  inoperative = false;

  constructor(
    private readonly host: StatusesHost,
    private readonly outbox: Outbox,
    private readonly env: StationEnv,
  ) {}

  /** Re-derives a connector's status and reports a change (MicroOcpp sends StatusNotification on every change). */
  refresh(c: Connector): void {
    this.#derive(c);
    this.report(c, false);
  }

  /** Reports the connector's status; `force`: even when it is the one last queued. Only online and booted. */
  report(c: Connector, force: boolean): void {
    const key = `${c.status}/${c.errorCode}`;
    if (!this.host.linkOpen() || !this.host.bootAccepted()) return;
    if (!force && key === c.enqueued) return;
    c.enqueued = key;
    if (c.status === 'Charging' && this.host.defects?.has('skipsChargingStatus')) {
      c.confirmed = key;
      return;
    }
    const payload: Record<string, unknown> = { connectorId: c.id, errorCode: c.errorCode, status: c.status, timestamp: iso(this.env.clock.now()) };
    if (c.info !== undefined) payload.info = c.info;
    this.outbox.enqueue('StatusNotification', payload, undefined, (conf) => {
      if (conf) c.confirmed = key;
    });
  }

  /** Right after an accepted boot: every connector, connector 0 first, whatever was sent before. */
  reportAll(): void {
    for (const c of this.host.connectors) {
      this.#derive(c);
      this.report(c, true);
    }
  }

  /** After a reconnect: the statuses the central system has not confirmed. */
  reportUnconfirmed(): void {
    for (const c of this.host.connectors) if (c.confirmed !== `${c.status}/${c.errorCode}`) this.report(c, true);
  }

  /** The link is gone: what was queued but not confirmed is lost with the volatile messages. */
  linkLost(): void {
    for (const c of this.host.connectors) c.enqueued = c.confirmed;
  }

  /** A new boot: the central system is told everything again. */
  newBoot(): void {
    for (const c of this.host.connectors) {
      c.confirmed = undefined;
      c.enqueued = undefined;
    }
  }

  #derive(c: Connector): void {
    c.status = c.id === 0 ? (this.inoperative ? 'Unavailable' : 'Available') : c.derive(this.inoperative);
    c.errorCode = c.fault?.errorCode ?? 'NoError';
    c.info = c.fault?.info;
  }
}
