// Which events a subscription wants: by type, by station, and optionally by the OCPP action they stem from.
import type { EventType, GatewayEvent } from '../events/catalogue.js';
import type { Subscription } from './config.js';

/** The station action behind each event type; types with none never match an action filter. */
const ACTION_OF: ReadonlyMap<EventType, string> = new Map<EventType, string>([
  ['bootNotification', 'BootNotification'],
  ['heartbeat', 'Heartbeat'],
  ['status', 'StatusNotification'],
  ['meterValues', 'MeterValues'],
  ['transactionStarted', 'StartTransaction'],
  ['transactionStopped', 'StopTransaction'],
  ['transactionStopFailed', 'StopTransaction'],
  ['preChargeData', 'DataTransfer'],
  ['sessionSummary', 'DataTransfer'],
  ['bmsAlert', 'DataTransfer'],
  ['vendorEvent', 'DataTransfer'],
  ['dataTransfer', 'DataTransfer'],
  ['firmwareStatus', 'FirmwareStatusNotification'],
  ['diagnosticsStatus', 'DiagnosticsStatusNotification'],
]);

export function actionOf(e: GatewayEvent): string | undefined {
  if (e.type === 'finding') return e.data.action;
  return ACTION_OF.get(e.type);
}

export function wants(sub: Subscription, e: GatewayEvent): boolean {
  if (sub.types !== 'all' && !sub.types.includes(e.type)) return false;
  if (sub.stations !== 'all' && !sub.stations.includes(e.chargeBoxId)) return false;
  if (sub.actions === undefined) return true;
  const action = actionOf(e);
  return action !== undefined && sub.actions.includes(action);
}
