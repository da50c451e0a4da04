// REST reads of the event model: station snapshot, event history, transactions. Mounted under /api behind
// the JWT middleware; which stations a caller may see comes from `allowed` (factory option or res.locals).
import { Router, type Request, type Response } from 'express';
import { EVENT_TYPES, type EventType, type GatewayEvent } from '../events/catalogue.js';
import { tryStringify } from '../events/json-safety.js';
import type { EventModel } from '../events/index.js';

export type AllowedFn = (chargeBoxId: string) => boolean;

export interface EventsRouterOptions {
  /** Fallback when the auth middleware leaves no `res.locals.allowed`. Default: everything. */
  readonly allowed?: AllowedFn;
}

const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;

type ErrorCode = 'bad_request' | 'forbidden' | 'not_found';
const STATUS: Record<ErrorCode, number> = { bad_request: 400, forbidden: 403, not_found: 404 };

function fail(res: Response, code: ErrorCode, message: string): void {
  res.status(STATUS[code]).json({ error: { code, message } });
}

/** One string query parameter; repeated or nested parameters are refused rather than guessed at. */
function param(req: Request, name: string): string | undefined | Error {
  const v: unknown = (req.query as Record<string, unknown>)[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') return new Error(`${name} must be given once, as a plain value`);
  return v;
}

/**
 * A list of events as JSON text, event by event: one that cannot be serialised (the history replaces those as it
 * keeps them, but whatever is in memory must never fail the page) is sent as a finding that says so.
 */
function eventsJson(events: readonly GatewayEvent[]): string {
  const parts = events.map(
    (e) =>
      tryStringify(e) ??
      JSON.stringify({
        id: String(e.id), seq: e.seq, type: 'finding', chargeBoxId: String(e.chargeBoxId), timestamp: String(e.timestamp), receivedAt: String(e.receivedAt),
        source: e.source, data: { rule: 'event.unserialisable', message: `a ${String(e.type)} event could not be serialised` },
      }),
  );
  return `[${parts.join(',')}]`;
}

export function eventsRouter(model: Pick<EventModel, 'state' | 'history'>, opts: EventsRouterOptions = {}): Router {
  const router = Router();
  const allowedFor = (res: Response): AllowedFn => {
    const fromAuth: unknown = res.locals.allowed;
    return typeof fromAuth === 'function' ? (fromAuth as AllowedFn) : (opts.allowed ?? (() => true));
  };

  router.get('/stations/:id/state', (req, res) => {
    const id = req.params.id;
    if (!allowedFor(res)(id)) return fail(res, 'forbidden', `station ${id} is not in your token's scope`);
    // ?connectorId=N puts that connector's figures at the summary's top level (all are in summary.connectors).
    const connectorRaw = param(req, 'connectorId');
    if (connectorRaw instanceof Error) return fail(res, 'bad_request', connectorRaw.message);
    const connectorId = connectorRaw === undefined ? undefined : Number(connectorRaw);
    if (connectorId !== undefined && !(Number.isInteger(connectorId) && connectorId >= 1)) return fail(res, 'bad_request', 'connectorId must be an integer ≥ 1');
    const snapshot = model.state.snapshot(id);
    if (!snapshot) return fail(res, 'not_found', `no events seen for station ${id}`);
    res.json({ ...snapshot, summary: model.state.summary(id, connectorId) });
  });

  router.get('/events', (req, res) => {
    const chargeBoxId = param(req, 'chargeBoxId');
    const sinceRaw = param(req, 'since');
    const typeRaw = param(req, 'type');
    const limitRaw = param(req, 'limit');
    for (const p of [chargeBoxId, sinceRaw, typeRaw, limitRaw]) if (p instanceof Error) return fail(res, 'bad_request', p.message);
    const cb = chargeBoxId as string | undefined;
    const allowed = allowedFor(res);
    if (cb !== undefined && !allowed(cb)) return fail(res, 'forbidden', `station ${cb} is not in your token's scope`);

    let since: number | string | undefined;
    if (typeof sinceRaw === 'string') {
      if (/^\d+$/.test(sinceRaw)) {
        if (cb === undefined) return fail(res, 'bad_request', 'since as a seq needs chargeBoxId (seq counts per station); use an ISO time across stations');
        since = Number(sinceRaw);
      } else if (Number.isFinite(Date.parse(sinceRaw))) since = new Date(sinceRaw).toISOString();
      else return fail(res, 'bad_request', 'since must be a seq (integer) or an ISO 8601 time');
    }
    let types: EventType[] | undefined;
    if (typeof typeRaw === 'string') {
      types = [];
      for (const t of typeRaw.split(',').map((s) => s.trim()).filter(Boolean)) {
        if (!(EVENT_TYPES as readonly string[]).includes(t)) return fail(res, 'bad_request', `unknown event type ${t}; known: ${EVENT_TYPES.join(', ')}`);
        types.push(t as EventType);
      }
    }
    let limit = DEFAULT_LIMIT;
    if (typeof limitRaw === 'string') {
      if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > MAX_LIMIT) return fail(res, 'bad_request', `limit must be an integer in 1..${MAX_LIMIT}`);
      limit = Number(limitRaw);
    }

    const stationIds = cb !== undefined ? [cb] : model.history.stations().filter(allowed);
    const events = stationIds.flatMap((id) =>
      model.history.query({ chargeBoxId: id, limit: cb !== undefined ? limit : MAX_LIMIT, ...(since !== undefined ? { since } : {}), ...(types ? { type: types } : {}) }),
    );
    if (cb === undefined) {
      events.sort((a, b) => (a.receivedAt < b.receivedAt ? -1 : a.receivedAt > b.receivedAt ? 1 : 0));
    }
    const page = cb !== undefined ? events : since === undefined ? events.slice(-limit) : events.slice(0, limit);
    if (cb === undefined) return void res.type('application/json').send(`{"events":${eventsJson(page)}}`);
    const firstSeq = model.history.firstSeq(cb) ?? null;
    // A client asking from before the oldest retained event has missed some for good: say so.
    const truncated = typeof since === 'number' && firstSeq !== null && since < firstSeq - 1;
    const rest = JSON.stringify({ firstSeq, lastSeq: model.history.lastSeq(cb), truncated });
    res.type('application/json').send(`{"events":${eventsJson(page)},${rest.slice(1)}`);
  });

  router.get('/transactions', (req, res) => {
    const chargeBoxId = param(req, 'chargeBoxId');
    const sinceRaw = param(req, 'since');
    for (const p of [chargeBoxId, sinceRaw]) if (p instanceof Error) return fail(res, 'bad_request', p.message);
    const cb = chargeBoxId as string | undefined;
    const allowed = allowedFor(res);
    if (cb !== undefined && !allowed(cb)) return fail(res, 'forbidden', `station ${cb} is not in your token's scope`);
    if (typeof sinceRaw === 'string' && !Number.isFinite(Date.parse(sinceRaw))) return fail(res, 'bad_request', 'since must be an ISO 8601 time');
    const transactions = model.state
      .transactions({ ...(cb !== undefined ? { chargeBoxId: cb } : {}), ...(typeof sinceRaw === 'string' ? { since: new Date(sinceRaw).toISOString() } : {}) })
      .filter((t) => allowed(t.chargeBoxId));
    res.json({ transactions });
  });

  return router;
}
