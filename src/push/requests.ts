// Client requests arrive as `unknown`: these parse them into the protocol's shapes or say what is wrong.
import type { SubscribeRequest } from './protocol.js';

export function parseSubscribe(raw: unknown): SubscribeRequest | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'expected { chargeBoxIds: [...] } or { all: true }';
  const r = raw as Record<string, unknown>;
  const all = r.all === true;
  const ids = r.chargeBoxIds;
  if (!all && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string' && id !== ''))) {
    return 'chargeBoxIds must be an array of non-empty strings (or pass all: true)';
  }
  let since: Record<string, number> | undefined;
  if (r.since !== undefined) {
    if (typeof r.since !== 'object' || r.since === null || Array.isArray(r.since)) return 'since must map chargeBoxId to the last seq held';
    since = {};
    for (const [id, seq] of Object.entries(r.since as Record<string, unknown>)) {
      if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) return `since.${id} must be an integer >= 0`;
      since[id] = seq;
    }
  }
  return { all, ...(Array.isArray(ids) ? { chargeBoxIds: ids as string[] } : {}), ...(since ? { since } : {}) };
}

export function parseReplay(raw: unknown): { chargeBoxId: string; since: number } | string {
  if (typeof raw !== 'object' || raw === null) return 'expected { chargeBoxId, since }';
  const { chargeBoxId, since } = raw as Record<string, unknown>;
  if (typeof chargeBoxId !== 'string' || typeof since !== 'number' || !Number.isInteger(since) || since < 0) {
    return 'expected { chargeBoxId: string, since: integer >= 0 }';
  }
  return { chargeBoxId, since };
}
