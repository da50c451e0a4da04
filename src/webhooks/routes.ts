// REST for webhook subscriptions (mounted behind the operator guard at /api/webhooks).
import express, { type Request, type Response, type Router } from 'express';
import { WebhookInputError, WebhookNotFound, WebhookReadOnly } from './config.js';
import type { Webhooks } from './index.js';

function fail(res: Response, err: unknown): void {
  const e = err as Error;
  const [status, code] =
    err instanceof WebhookInputError ? [400, 'bad_request']
    : err instanceof WebhookNotFound ? [404, 'not_found']
    : err instanceof WebhookReadOnly ? [409, 'read_only']
    : [0, ''];
  if (status === 0) throw err;
  res.status(status).json({ error: { code, message: e.message } });
}

/** `keys` in a body: absent means all; otherwise a list of dead-letter keys. */
function keysOf(body: unknown): readonly number[] | undefined {
  const keys = (body as { keys?: unknown } | undefined)?.keys;
  if (keys === undefined) return undefined;
  if (!Array.isArray(keys) || !keys.every((k) => Number.isSafeInteger(k))) throw new WebhookInputError('keys must be a list of dead-letter keys (integers); leave it out for all');
  return keys as number[];
}

export function webhooksRouter(hooks: Webhooks): Router {
  const r = express.Router();
  r.use(express.json({ limit: '64kb' }));
  const id = (req: Request): string => String(req.params.id);
  r.get('/', (_req, res) => {
    res.json({ subscriptions: hooks.list() });
  });
  r.post('/', (req, res) => {
    try {
      res.status(201).json(hooks.create(req.body));
    } catch (err) {
      fail(res, err);
    }
  });
  r.get('/:id', (req, res) => {
    try {
      res.json(hooks.get(id(req)));
    } catch (err) {
      fail(res, err);
    }
  });
  r.patch('/:id', (req, res) => {
    try {
      res.json(hooks.update(id(req), req.body));
    } catch (err) {
      fail(res, err);
    }
  });
  r.delete('/:id', async (req, res) => {
    try {
      await hooks.remove(id(req));
      res.status(204).end();
    } catch (err) {
      fail(res, err);
    }
  });
  r.get('/:id/dead-letters', (req, res) => {
    try {
      res.json({ deadLetters: hooks.deadLetters(id(req)) });
    } catch (err) {
      fail(res, err);
    }
  });
  r.post('/:id/dead-letters/redeliver', (req, res) => {
    try {
      res.json({ requeued: hooks.redeliver(id(req), keysOf(req.body)) });
    } catch (err) {
      fail(res, err);
    }
  });
  r.delete('/:id/dead-letters', (req, res) => {
    try {
      res.json({ cleared: hooks.clearDead(id(req), keysOf(req.body)) });
    } catch (err) {
      fail(res, err);
    }
  });
  return r;
}
