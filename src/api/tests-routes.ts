// Charger test runs over REST (operators): start a suite on a station, follow it, answer its questions, read
// the report as JSON, JUnit XML or HTML. Progress is also pushed over Socket.IO (`tests:subscribe`).
import express, { type Router } from 'express';
import type { ApiAuth } from './auth.js';
import {
  CaseError, describeSuite, listSuites, loadSuite, selectCases, toHtml, toJUnit, type TestRuns,
} from '../charger-tests/index.js';
import type { TestRunOp, TestsAcrossNodes, TestsReply } from '../events/test-runs.js';

export interface TestsRoutesDeps {
  readonly auth: ApiAuth;
  readonly runs: TestRuns;
  /** Folder holding one sub-folder per suite (CHARGER_TESTS_DIR). */
  readonly casesDir: string;
  readonly connected: (chargeBoxId: string) => boolean;
  readonly elsewhere?: TestsAcrossNodes;
}

/** Socket.IO `tests:answer`: the same answer as REST, from whichever node keeps the run. */
export type TestAnswer = (runId: string, askId: string, answer: 'done' | 'skipped') => Promise<'ok' | 'no_run' | 'no_ask' | { readonly unreachable: string }>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (status: number, code: string, message: string): TestsReply => ({ status, body: { error: { code, message } } });

export function createTests(deps: TestsRoutesDeps): { router: Router; answer: TestAnswer } {
  const router = express.Router();
  const operator = deps.auth.require({ role: 'operator' });
  const send = (res: express.Response, r: TestsReply): void => {
    res.status(r.status);
    if (r.type !== undefined) res.type(r.type).send(r.body);
    else if (r.body === undefined) res.end();
    else res.json(r.body);
  };

  // What this node does with its own runs; other nodes ask for the same over the cluster.
  const startHere = (chargeBoxId: string, raw: unknown): TestsReply => {
    const body: Record<string, unknown> = isObject(raw) ? raw : {};
    const suite = body.suite ?? 'core';
    const names = body.cases;
    const timeScale = body.timeScale;
    if (typeof suite !== 'string') return fail(400, 'invalid', '"suite" must be a string');
    if (names !== undefined && (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))) return fail(400, 'invalid', '"cases" must be a list of case names');
    if (timeScale !== undefined && (typeof timeScale !== 'number' || !(timeScale > 0) || timeScale > 1000)) return fail(400, 'invalid', '"timeScale" must be a number in (0, 1000]');
    let cases;
    try {
      cases = selectCases(loadSuite(deps.casesDir, suite), names as string[] | undefined);
    } catch (err) {
      if (err instanceof CaseError) return fail(400, 'GW_ERR_TEST_CASE', err.message);
      throw err;
    }
    if (!deps.connected(chargeBoxId)) return fail(409, 'GW_ERR_STATION_NOT_CONNECTED', `station ${chargeBoxId} is not connected to the gateway: connect the board (ws://<gateway>/ocpp/${chargeBoxId}) and try again`);
    const active = deps.runs.activeFor(chargeBoxId);
    if (active) return fail(409, 'GW_ERR_TEST_RUNNING', `a test run is already going on ${chargeBoxId}: ${active.runId}`);
    const { runId } = deps.runs.start({ chargeBoxId, suite, cases, ...(typeof timeScale === 'number' ? { timeScale } : {}) });
    return { status: 202, body: { runId, chargeBoxId, suite, cases: cases.map((c) => c.name), report: `/api/tests/${runId}` } };
  };
  const runHere = (runId: string, op: TestRunOp): TestsReply | undefined => {
    const report = deps.runs.get(runId);
    if (!report) return undefined;
    if (op.op === 'abort') return deps.runs.abort(runId) ? { status: 202, body: { ok: true } } : fail(404, 'not_found', `no running test run ${runId}`);
    if (op.op === 'answer') {
      if (op.answer !== 'done' && op.answer !== 'skipped') return fail(400, 'invalid', '"answer" must be "done" or "skipped"');
      return deps.runs.answer(runId, op.askId, op.answer) === 'ok' ? { status: 200, body: { ok: true } } : fail(409, 'GW_ERR_NO_QUESTION', 'the run is not waiting for that answer (timed out or already answered)');
    }
    if (op.format === 'junit') return { status: 200, type: 'application/xml', body: toJUnit(report) };
    if (op.format === 'html') return { status: 200, type: 'text/html', body: toHtml(report) };
    if (op.format !== 'json') return fail(400, 'invalid', 'format must be json, junit or html');
    return { status: 200, body: report };
  };
  const listHere = (): object[] => deps.runs.list().map(({ cases: _c, ...rest }) => rest);
  deps.elsewhere?.serve({ start: startHere, run: runHere, list: listHere });

  /** A run kept here, or by the node that keeps it. */
  const onRun = async (runId: string, op: TestRunOp, gone: string): Promise<TestsReply> =>
    runHere(runId, op) ?? (await deps.elsewhere?.run(runId, op)) ?? fail(404, 'not_found', gone);

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
    // A station held by another node: the run starts and runs there, and is followed from here as from there.
    const node = deps.elsewhere && !deps.connected(chargeBoxId) ? await deps.elsewhere.holder(chargeBoxId) : undefined;
    send(res, node !== undefined ? await deps.elsewhere!.start(node, chargeBoxId, req.body) : startHere(chargeBoxId, req.body));
  });

  router.get('/tests', operator, async (_req, res) => {
    const here = listHere();
    if (!deps.elsewhere) return void res.json({ runs: here });
    const { runs, unanswered } = await deps.elsewhere.list();
    res.json({ runs: [...here, ...runs], unanswered });
  });

  router.get('/tests/:runId', operator, async (req, res) => {
    const runId = String(req.params.runId);
    const format = req.query.format ?? 'json';
    send(res, await onRun(runId, { op: 'get', format: typeof format === 'string' ? format : '' }, `no test run ${runId} (the gateway keeps the newest ones only)`));
  });

  router.post('/tests/:runId/asks/:askId', operator, express.json({ limit: '4kb' }), async (req, res) => {
    const runId = String(req.params.runId);
    const answer = isObject(req.body) ? req.body.answer ?? 'done' : 'done';
    if (answer !== 'done' && answer !== 'skipped') return send(res, fail(400, 'invalid', '"answer" must be "done" or "skipped"'));
    send(res, await onRun(runId, { op: 'answer', askId: String(req.params.askId), answer }, `no test run ${runId}`));
  });

  router.delete('/tests/:runId', operator, async (req, res) => {
    const runId = String(req.params.runId);
    send(res, await onRun(runId, { op: 'abort' }, `no running test run ${runId}`));
  });

  const answer: TestAnswer = async (runId, askId, a) => {
    const r = await onRun(runId, { op: 'answer', askId, answer: a }, `no test run ${runId}`);
    if (r.status === 200) return 'ok';
    if (r.status === 404) return 'no_run';
    if (r.status === 409) return 'no_ask';
    return { unreachable: ((r.body as { error?: { message?: string } }).error?.message) ?? `HTTP ${r.status}` };
  };
  return { router, answer };
}
