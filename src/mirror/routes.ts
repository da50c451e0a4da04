// REST for mirror upstreams (mounted behind the operator guard at /api/mirrors). Errors in the documented shape.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { MirrorInputError, MirrorNotFound, MirrorReadOnly } from './config.js';
import type { Mirrors } from './index.js';

function fail(res: Response, err: unknown): void {
  const [status, code] =
    err instanceof MirrorInputError ? [400, 'bad_request']
    : err instanceof MirrorNotFound ? [404, 'not_found']
    : err instanceof MirrorReadOnly ? [409, 'read_only']
    : [0, ''];
  if (status === 0) throw err;
  res.status(status).json({ error: { code, message: (err as Error).message } });
}

export function mirrorsRouter(mirrors: Mirrors): Router {
  const r = express.Router();
  r.use(express.json({ limit: '64kb' }));
  const id = (req: Request): string => String(req.params.id);
  const handle = (fn: (req: Request, res: Response) => void) => (req: Request, res: Response): void => {
    try {
      fn(req, res);
    } catch (err) {
      fail(res, err);
    }
  };
  // Views are read after the worker reported its links' numbers as of the request.
  const fresh = (fn: (req: Request, res: Response) => void) => (req: Request, res: Response, next: NextFunction): void => {
    mirrors.refresh().then(() => handle(fn)(req, res)).catch(next);
  };
  r.get('/', fresh((_req, res) => res.json({ mirrors: mirrors.list() })));
  r.post('/', handle((req, res) => res.status(201).json(mirrors.create(req.body))));
  r.get('/:id', fresh((req, res) => res.json(mirrors.get(id(req)))));
  r.patch('/:id', handle((req, res) => res.json(mirrors.update(id(req), req.body))));
  r.delete('/:id', handle((req, res) => {
    mirrors.remove(id(req));
    res.status(204).end();
  }));
  return r;
}
