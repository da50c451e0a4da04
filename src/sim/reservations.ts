// Reservation profile of a simulated station, as MicroOcpp 1.2 runs it (OCPP 1.6 §5.13 ReserveNow, §5.1
// CancelReservation): a connector holds one reservation until it expires, is cancelled or its session starts
// (transactions.ts). The connector shows Reserved while it is idle (connector.ts); expiry is a wake-up like any other.
import type { CallAnswer, CallHost } from './call-host.js';

type ReserveStatus = 'Accepted' | 'Faulted' | 'Occupied' | 'Rejected' | 'Unavailable';

export function reserveNow(host: CallHost, payload: Record<string, unknown>, now: number): CallAnswer {
  const id = payload.reservationId as number;
  const expiresAt = Date.parse(payload.expiryDate as string);
  const c = host.connectors[payload.connectorId as number];
  const answer = (status: ReserveStatus, after?: () => void): CallAnswer => ({ kind: 'result', result: { status }, ...(after ? { after } : {}) });
  // Connector 0 would need ReserveConnectorZeroSupported, which this firmware does not offer.
  if (!c || c.id === 0 || !(expiresAt > now)) return answer('Rejected');
  if (c.fault) return answer('Faulted');
  if (c.inoperative || host.stationInoperative()) return answer('Unavailable');
  if (c.tx || c.vehicle || c.pendingAuth || (c.reservation && c.reservation.id !== id)) return answer('Occupied');
  return answer('Accepted', () => {
    // The same reservationId elsewhere is replaced (§5.13).
    for (const other of host.connectors) if (other.reservation?.id === id) other.reservation = undefined;
    c.reservation = { id, idTag: payload.idTag as string, parentIdTag: payload.parentIdTag as string | undefined, expiresAt };
    host.refreshAll();
  });
}

export function cancelReservation(host: CallHost, payload: Record<string, unknown>): CallAnswer {
  const c = host.connectors.find((x) => x.reservation?.id === payload.reservationId);
  if (!c) return { kind: 'result', result: { status: 'Rejected' } };
  return {
    kind: 'result',
    result: { status: 'Accepted' },
    after: () => {
      c.reservation = undefined;
      host.refreshAll();
    },
  };
}
