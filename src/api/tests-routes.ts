// Charger test runs over REST (operators): start a suite on a station, follow it, answer its questions, read
// the report as JSON, JUnit XML or HTML. Progress is also pushed over Socket.IO (`tests:subscribe`).
import express, { type Router } from 'express';
import type { ApiAuth } from './auth.js';
import {
  CaseError, describeSuite, listSuites, loadSuite, selectCases, toHtml, toJUnit, type TestRuns,
} from '../charger-tests/index.js';

export interface TestsRoutesDeps {
  readonly auth: ApiAuth;
  readonly runs: TestRuns;
  /** Folder holding one sub-folder per suite (CHARGER_TESTS_DIR). */
  readonly casesDir: string;
  readonly connected: (chargeBoxId: string) => boolean;
  /** Cluster mode: the other node holding a station not connected here (a run must start on that node). */
  readonly heldElsewhere?: (chargeBoxId: string) => Promise<string | undefined>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function createTestsRouter(deps: TestsRoutesDeps): Router {
  const router = express.Router();
  const operator = deps.auth.require({ role: 'operator' });
  const error = (res: express.Response, status: number, code: string, message: string): void => {
    res.status(status).json({ error: { code, message } });
  };

  router.get('/test-suites', operator, (_req, res) => {
    const suites = listSuites(deps.casesDir).map((suite) => {
      try {
        return describeSuite(suite, loadSuite(deps.casesDir, suite));
      } catch (err) {
        return { suite, cases: [], error: (err as Error).message };
      }
    });
    res.json({ dir: deps.casesDir, suites });
  });

  router.post('/stations/:id/tests', operator, express.json({ limit: '64kb' }), async (req, res) => {
    const chargeBoxId = String(req.params.id);
    const body: Record<string, unknown> = isObject(req.body) ? req.body : {};
    const suite = body.suite ?? 'core';
    const names = body.cases;
    const timeScale = body.timeScale;
    if (typeof suite !== 'string') return error(res, 400, 'invalid', '"suite" must be a string');
    if (names !== undefined && (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))) return error(res, 400, 'invalid', '"cases" must be a list of case names');
    if (timeScale !== undefined && (typeof timeScale !== 'number' || !(timeScale > 0) || timeScale > 1000)) return error(res, 400, 'invalid', '"timeScale" must be a number in (0, 1000]');
    let cases;
    try {
      cases = selectCases(loadSuite(deps.casesDir, suite), names as string[] | undefined);
    } catch (err) {
      if (err instanceof CaseError) return error(res, 400, 'GW_ERR_TEST_CASE', err.message);
      throw err;
    }
    const node = !deps.connected(chargeBoxId) ? await deps.heldElsewhere?.(chargeBoxId) : undefined;
    if (node !== undefined) {
      return void res.status(409).json({ error: { code: 'GW_ERR_STATION_ON_OTHER_NODE', node, message: `station ${chargeBoxId} is held by gateway node ${node}: start the run on that node (test runs are not routed across nodes)` } });
    }
    if (!deps.connected(chargeBoxId)) return error(res, 409, 'GW_ERR_STATION_NOT_CONNECTED', `station ${chargeBoxId} is not connected to the gateway: connect the board (ws://<gateway>/ocpp/${chargeBoxId}) and try again`);
    const active = deps.runs.activeFor(chargeBoxId);
    if (active) return error(res, 409, 'GW_ERR_TEST_RUNNING', `a test run is already going on ${chargeBoxId}: ${active.runId}`);
    const { runId } = deps.runs.start({ chargeBoxId, suite, cases, ...(typeof timeScale === 'number' ? { timeScale } : {}) });
    res.status(202).location(`/api/tests/${runId}`).json({ runId, chargeBoxId, suite, cases: cases.map((c) => c.name), report: `/api/tests/${runId}` });
  });

  router.get('/tests', operator, (_req, res) => {
    res.json({ runs: deps.runs.list().map(({ cases: _c, ...rest }) => rest) });
  });

  router.get('/tests/:runId', operator, (req, res) => {
    const report = deps.runs.get(String(req.params.runId));
    if (!report) return error(res, 404, 'not_found', `no test run ${String(req.params.runId)} (the gateway keeps the newest ones only)`);
    const format = req.query.format ?? 'json';
    if (format === 'junit') return void res.type('application/xml').send(toJUnit(report));
    if (format === 'html') return void res.type('text/html').send(toHtml(report));
    if (format !== 'json') return error(res, 400, 'invalid', 'format must be json, junit or html');
    res.json(report);
  });

  router.post('/tests/:runId/asks/:askId', operator, express.json({ limit: '4kb' }), (req, res) => {
    const answer = isObject(req.body) ? req.body.answer ?? 'done' : 'done';
    if (answer !== 'done' && answer !== 'skipped') return error(res, 400, 'invalid', '"answer" must be "done" or "skipped"');
    const r = deps.runs.answer(String(req.params.runId), String(req.params.askId), answer);
    if (r === 'no_run') return error(res, 404, 'not_found', `no test run ${String(req.params.runId)}`);
    if (r === 'no_ask') return error(res, 409, 'GW_ERR_NO_QUESTION', 'the run is not waiting for that answer (timed out or already answered)');
    res.json({ ok: true });
  });

  router.delete('/tests/:runId', operator, (req, res) => {
    if (!deps.runs.abort(String(req.params.runId))) return error(res, 404, 'not_found', `no running test run ${String(req.params.runId)}`);
    res.status(202).json({ ok: true });
  });
  return router;
}
