// The test central system over REST (operators): GET/PUT /api/test-cs, and single tags under /api/test-cs/tags.
// It answers stations only in embedded mode; with STEVE_WS_URL set, changes are refused with 409.
import express, { type Router } from 'express';
import type { ApiAuth } from './auth.js';
import { settingsToJson, TestCsSettingsError, type TestCentralSystem } from '../upstream/test-cs/index.js';

export interface TestCsRoutesDeps {
  readonly auth: ApiAuth;
  readonly testCs: TestCentralSystem;
  readonly mode: 'local' | 'steve';
}

export function createTestCsRouter(deps: TestCsRoutesDeps): Router {
  const router = express.Router();
  const { testCs } = deps;
  router.use('/test-cs', deps.auth.require({ role: 'operator' }), express.json({ limit: '1mb' }));
  const view = () => ({
    mode: deps.mode,
    active: deps.mode === 'local',
    settings: settingsToJson(testCs.settings),
    // What running test cases set for their station, on top of the shared settings.
    overrides: [...testCs.overrides].map(([chargeBoxId, s]) => ({ chargeBoxId, settings: settingsToJson(s) })),
  });
  const refuseInRelayMode = (res: express.Response): boolean => {
    if (deps.mode === 'local') return false;
    res.status(409).json({ error: { code: 'GW_ERR_TEST_CS_INACTIVE', message: 'the gateway relays to SteVe (STEVE_WS_URL is set), so the test central system answers nothing; start the gateway without STEVE_WS_URL to use it' } });
    return true;
  };
  const bad = (res: express.Response, err: unknown): void => {
    if (err instanceof TestCsSettingsError) res.status(400).json({ error: { code: 'GW_ERR_TEST_CS_INVALID', field: err.field, message: err.message } });
    else throw err;
  };

  router.get('/test-cs', (_req, res) => {
    res.json(view());
  });
  router.put('/test-cs', (req, res) => {
    if (refuseInRelayMode(res)) return;
    try {
      testCs.replace(req.body);
      res.json(view());
    } catch (err) {
      bad(res, err);
    }
  });
  router.get('/test-cs/tags', (_req, res) => {
    res.json({ localListVersion: testCs.settings.localListVersion, tags: settingsToJson(testCs.settings).tags });
  });
  router.put('/test-cs/tags/:idTag', (req, res) => {
    if (refuseInRelayMode(res)) return;
    try {
      const entry = testCs.setTag(req.params.idTag, req.body);
      res.json({ idTag: req.params.idTag, ...entry });
    } catch (err) {
      bad(res, err);
    }
  });
  router.delete('/test-cs/tags/:idTag', (req, res) => {
    if (refuseInRelayMode(res)) return;
    if (!testCs.removeTag(req.params.idTag)) {
      res.status(404).json({ error: { code: 'not_found', message: `no tag ${req.params.idTag} in the test central system` } });
      return;
    }
    res.status(204).end();
  });
  return router;
}
