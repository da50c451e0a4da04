// One station's line in the fleet feed: what a fleet table shows and filters on (link, status per connector,
// open transaction, SOC, power, model), without the meter samples, vehicles and transactions of a snapshot.
import type { LinkKind } from '../events/catalogue.js';
import type { StateSource } from './ports.js';

export interface FleetConnector {
  readonly connectorId: number;
  readonly status: string | null;
  readonly transactionId: number | null;
}

export interface FleetEntry {
  readonly chargeBoxId: string;
  /** Seq of the newest event the entry reflects: a client keeps the entry with the highest. */
  readonly seq: number;
  readonly online: boolean;
  readonly lastSeen: string | null;
  readonly linkKind: LinkKind | null;
  readonly upstream: 'steve' | 'local' | null;
  /** Station-level status (the connector the summary shows). */
  readonly status: string | null;
  /** Connectors above 0, in id order. */
  readonly connectors: readonly FleetConnector[];
  readonly soc: number | null;
  readonly power: number | null;
  readonly model: string | null;
  /** Ids of `finding` events since the station's previous entry (at most FINDING_IDS; a client de-duplicates by id). */
  readonly findings?: readonly string[];
}

/** Finding ids carried per station per tick; findings are rare, a storm of them is not the fleet table's business. */
export const FINDING_IDS = 16;

export function fleetEntry(state: StateSource, chargeBoxId: string, findings: readonly string[] | undefined): FleetEntry | undefined {
  const link = state.link(chargeBoxId);
  const summary = state.summary(chargeBoxId);
  if (!link || !summary) return undefined;
  return {
    chargeBoxId,
    seq: link.seq,
    online: link.online,
    lastSeen: link.lastSeen ?? null,
    linkKind: link.linkKind ?? null,
    upstream: link.upstream ?? null,
    status: summary.status,
    connectors: summary.connectors.map((c) => ({ connectorId: c.connectorId, status: c.status, transactionId: c.transactionId })),
    soc: summary.soc,
    power: summary.power,
    model: summary.model,
    ...(findings && findings.length > 0 ? { findings } : {}),
  };
}
