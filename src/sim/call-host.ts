// What a simulated station's call handlers return and need from their station: shared by central-system-calls.ts
// and the per-profile handlers (reservations, local list, smart charging) so that none imports another.
import type { Connector } from './connector.js';
import type { Defects } from './defects.js';
import type { KeyStore } from './keys.js';
import type { OnResult } from './outbox.js';

export type CallAnswer =
  | { readonly kind: 'result'; readonly result: Record<string, unknown>; readonly after?: () => void }
  | { readonly kind: 'notSupported' };

/** What the handlers need from their station. */
export interface CallHost {
  /** Index 0 is the charge point itself. */
  readonly connectors: readonly Connector[];
  readonly keys: KeyStore;
  readonly defects: Defects | undefined;
  /** The whole charge point made Unavailable (ChangeAvailability on connector 0). */
  stationInoperative(): boolean;
  setStationInoperative(inoperative: boolean): void;
  presentTag(c: Connector, idTag: string, now: number): void;
  authorized(c: Connector, idTag: string, now: number): void;
  stopTx(c: Connector, reason: string, now: number): void;
  /** Hard: reboot at once; soft: once the transaction messages are out (bounded). */
  scheduleReset(hard: boolean, now: number): void;
  /** An accepted ChangeConfiguration: persist the key store and apply what depends on the key. */
  configChanged(key: string, now: number): void;
  /** Re-derive every connector's status and report changes. */
  refreshAll(): void;
  enqueue(action: string, payload: Record<string, unknown>, onResult?: OnResult): void;
  bootPayload(): Record<string, unknown>;
  /** The interval a BootNotification.conf handed out. */
  heartbeatInterval(seconds: number): void;
  /** StatusNotification now, changed or not. */
  reportStatus(c: Connector): void;
  /** MeterValues with context Trigger. */
  sendMeterValues(c: Connector, now: number): void;
}
