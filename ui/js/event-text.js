// One line of text per gateway event for the "Recent events" list; chatty kinds (heartbeats, meter values,
// raw data transfers) are left out. kind: info | good | warning | alert.
import { withUnit } from './format.js';

function tx(e) {
  return e.transactionId !== undefined ? ` #${e.transactionId}` : '';
}

function connector(e) {
  return e.connectorId !== undefined ? `connector ${e.connectorId}: ` : '';
}

export function describeEvent(e) {
  const d = e.data ?? {};
  switch (e.type) {
    case 'stationConnected':
      return { kind: 'good', text: `Connected over ${d.linkKind} (upstream: ${d.upstream})` };
    case 'stationDisconnected':
      return { kind: 'warning', text: `Disconnected (${d.code}${d.reason ? `, ${d.reason}` : ''})` };
    case 'bootNotification':
      return { kind: 'info', text: `Boot: ${[d.chargePointVendor, d.chargePointModel].filter(Boolean).join(' ')}${d.firmwareVersion ? `, firmware ${d.firmwareVersion}` : ''}${d.registrationStatus ? ` (${d.registrationStatus})` : ''}` };
    case 'status':
      return { kind: d.status === 'Faulted' ? 'alert' : 'info', text: `${connector(e)}${d.status}${d.errorCode && d.errorCode !== 'NoError' ? ` (${d.errorCode})` : ''}${d.synthetic ? ' [SteVe]' : ''}` };
    case 'preChargeData':
      return { kind: 'info', text: `${d.messageId}: SOC ${withUnit(d.soc, '%')}${d.model ? `, ${d.model}` : ''}${d.maxCurrent !== undefined ? `, max ${withUnit(d.maxCurrent, 'A', 0)}` : ''}` };
    case 'transactionStarted':
      return { kind: 'good', text: `Transaction${tx(e)} started, idTag ${d.idTag}, meter ${d.meterStart} Wh` };
    case 'transactionStopped':
      return { kind: 'info', text: `Transaction${tx(e)} stopped${d.reason ? ` (${d.reason})` : ''}${d.energyWh !== undefined ? `, ${d.energyWh} Wh` : ''}` };
    case 'transactionStopFailed':
      return { kind: 'alert', text: `Stop of transaction${tx(e)} failed: ${d.reason}` };
    case 'sessionSummary':
      return { kind: 'info', text: `Session summary: final SOC ${withUnit(d.finalSoc, '%')}, ${withUnit(d.energyDelivered, 'Wh')}, ${withUnit(d.durationMinutes, 'min')}` };
    case 'bmsAlert':
      return { kind: 'alert', text: `BMS: ${d.alert ?? 'alert'}${d.permission === false ? ' (charging not allowed)' : ''}` };
    case 'firmwareStatus':
      return { kind: 'info', text: `Firmware: ${d.status}` };
    case 'diagnosticsStatus':
      return { kind: 'info', text: `Diagnostics: ${d.status}` };
    case 'resync':
      return { kind: 'warning', text: `State re-read from SteVe (${d.reason})` };
    case 'finding':
      return { kind: 'warning', text: `Finding ${d.rule}${d.action ? ` in ${d.action}` : ''}: ${d.message}` };
    default:
      return undefined;
  }
}
