// GET /api/ocpp/schemas (operators): the request schemas of every OCPP 1.6J action a central system sends to a
// station, so the operator console can build a form per action from the same schemas the gateway checks with.
import express, { type Router } from 'express';
import type { ApiAuth } from './auth.js';
import { ocpp16Schemas, type OcppSchema } from '../ocpp/schemas.js';

/** OCPP 1.6J actions initiated by the central system (DataTransfer goes both ways). */
export const CS_TO_CP_ACTIONS = [
  'CancelReservation', 'ChangeAvailability', 'ChangeConfiguration', 'ClearCache', 'ClearChargingProfile', 'DataTransfer',
  'GetCompositeSchedule', 'GetConfiguration', 'GetDiagnostics', 'GetLocalListVersion', 'RemoteStartTransaction',
  'RemoteStopTransaction', 'ReserveNow', 'Reset', 'SendLocalList', 'SetChargingProfile', 'TriggerMessage',
  'UnlockConnector', 'UpdateFirmware',
] as const;

export interface ActionSchema {
  readonly action: (typeof CS_TO_CP_ACTIONS)[number];
  readonly schema: OcppSchema;
}

export function csToCpSchemas(): readonly ActionSchema[] {
  const byId = new Map(ocpp16Schemas().map((s) => [s.$id, s]));
  return CS_TO_CP_ACTIONS.flatMap((action) => {
    const schema = byId.get(`urn:${action}.req`);
    return schema ? [{ action, schema }] : [];
  });
}

export function createOcppSchemasRouter(deps: { readonly auth: ApiAuth }): Router {
  const router = express.Router();
  const body = JSON.stringify({ version: 'ocpp1.6', actions: csToCpSchemas() });
  router.get('/ocpp/schemas', deps.auth.require({ role: 'operator' }), (_req, res) => {
    res.type('application/json').setHeader('Cache-Control', 'private, max-age=3600');
    res.send(body);
  });
  return router;
}
