// REST control of the simulator (the lead mounts it at /api/sim behind the operator JWT check).
//   GET    /stations                      list
//   POST   /stations                      create from a SimStationSpec body → 201
//   GET    /stations/:id                  one station
//   DELETE /stations/:id                  remove → 204
//   POST   /stations/:id/actions/:type    act; body holds the action's other fields → 200, or 409 when refused
import express, { type Request, type Response, type Router } from 'express';
import type { Simulator } from './simulator.js';

const STATUS: Record<string, number> = { not_found: 404, invalid: 400, conflict: 409 };

function fail(res: Response, err: unknown): void {
  const code = (err as { code?: unknown }).code;
  const status = typeof code === 'string' ? STATUS[code] : undefined;
  if (status === undefined) {
    res.status(500).json({ error: { code: 'internal', message: 'simulator error' } });
    return;
  }
  res.status(status).json({ error: { code, message: (err as Error).message } });
}

export function simRouter(sim: Simulator): Router {
  const router = express.Router();
  router.use(express.json({ limit: '64kb' }));
  router.get('/stations', (_req, res) => {
    res.json({ stations: sim.list() });
  });
  router.post('/stations', (req: Request, res: Response) => {
    try {
      res.status(201).json(sim.create(req.body as Parameters<Simulator['create']>[0]));
    } catch (err) {
      fail(res, err);
    }
  });
  router.get('/stations/:id', (req: Request<{ id: string }>, res: Response) => {
    try {
      res.json(sim.get(req.params.id));
    } catch (err) {
      fail(res, err);
    }
  });
  router.delete('/stations/:id', (req: Request<{ id: string }>, res: Response) => {
    try {
      sim.remove(req.params.id);
      res.status(204).end();
    } catch (err) {
      fail(res, err);
    }
  });
  router.post('/stations/:id/actions/:type', async (req: Request<{ id: string; type: string }>, res: Response) => {
    try {
      const body = typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
      const result = await sim.act(req.params.id, { ...body, type: req.params.type } as Parameters<Simulator['act']>[1]);
      res.status(result.ok ? 200 : 409).json(result);
    } catch (err) {
      fail(res, err);
    }
  });
  return router;
}
