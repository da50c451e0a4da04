// The newest status per station and connector, kept from the events the reader thread hands on (its own table
// lives on the other heap): status events by status_timestamp (rows may arrive out of order), a snapshot's resync
// as the whole picture of its station.
import type { EventInput } from '../events/catalogue.js';
import type { CurrentStatus } from './translate.js';

export class StatusMirror {
  readonly #stations = new Map<string, Map<number, CurrentStatus>>();

  note(e: EventInput): void {
    if (e.type === 'status') {
      const s = e as EventInput<'status'>;
      if (s.connectorId === undefined) return;
      const connectors = this.#station(s.chargeBoxId);
      const cur = connectors.get(s.connectorId);
      if (cur === undefined || cur.timestamp <= s.timestamp) connectors.set(s.connectorId, { status: s.data.status, errorCode: s.data.errorCode, timestamp: s.timestamp });
    } else if (e.type === 'resync') {
      const r = e as EventInput<'resync'>;
      const connectors = new Map<number, CurrentStatus>();
      for (const c of r.data.connectors ?? []) connectors.set(c.connectorId, { status: c.status, errorCode: c.errorCode, timestamp: c.timestamp });
      this.#stations.set(r.chargeBoxId.toLowerCase(), connectors);
    }
  }

  of(chargeBoxId: string): ReadonlyMap<number, CurrentStatus> {
    return new Map(this.#stations.get(chargeBoxId.toLowerCase()));
  }

  #station(chargeBoxId: string): Map<number, CurrentStatus> {
    const key = chargeBoxId.toLowerCase();
    let m = this.#stations.get(key);
    if (m === undefined) {
      m = new Map();
      this.#stations.set(key, m);
    }
    return m;
  }
}
