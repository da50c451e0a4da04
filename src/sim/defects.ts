// "Faulty firmware": deliberate defects a simulated station can be given (spec field `defects`), each a known way
// real charger firmware gets OCPP 1.6 wrong, so the charger test catalogue can be shown to catch it. A station
// without defects has no set at all (undefined), so the healthy path pays one optional-chaining check at the few
// places a defect lives (outbox.ts, transactions.ts, central-system-calls.ts, station.ts).

export const DEFECTS = [
  /** Transaction messages produced while offline (StopTransaction, MeterValues, SessionSummary) are lost on reconnect. */
  'forgetsOfflineQueue',
  /** A Reset, Soft or Hard, stops the running session with reason PowerLoss. */
  'wrongResetStopReason',
  /** The interval of BootNotification.conf is ignored: heartbeats keep the station's HeartbeatInterval. */
  'ignoresHeartbeatInterval',
  /** MeterValues during a transaction carry no transactionId. */
  'meterValuesWithoutTransactionId',
  /** Keys changed by ChangeConfiguration fall back to their initial values at every reboot, and are never written. */
  'doesNotPersistConfiguration',
  /** No StatusNotification Charging (the status itself still changes). */
  'skipsChargingStatus',
  /** GetConfiguration lists unknown keys in configurationKey (empty value) instead of in unknownKey. */
  'reportsUnknownKeysAsKnown',
] as const;

export type Defect = (typeof DEFECTS)[number];

export type Defects = ReadonlySet<Defect>;

/** The station's defects, or undefined for a healthy station (the common case, checked with `defects?.has`). */
export function defectsOf(list: readonly Defect[] | undefined): Defects | undefined {
  return list && list.length > 0 ? new Set(list) : undefined;
}
