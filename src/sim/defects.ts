// "Faulty firmware": deliberate defects a simulated station can be given (spec field `defects`), each a known way
// real charger firmware gets OCPP 1.6 wrong, so the charger test catalogue can be shown to catch it. A station
// without defects has no set at all (undefined), so the healthy path pays one optional-chaining check at the few
// places a defect lives (outbox.ts, transactions.ts, central-system-calls.ts, station.ts).

export const DEFECTS = [
  'forgetsOfflineQueue',
  'wrongResetStopReason',
  'ignoresHeartbeatInterval',
  'meterValuesWithoutTransactionId',
  'doesNotPersistConfiguration',
  'skipsChargingStatus',
  'reportsUnknownKeysAsKnown',
] as const;

export type Defect = (typeof DEFECTS)[number];

/** What each defect does, for docs, listings and error messages. */
export const DEFECT_EFFECTS: Readonly<Record<Defect, string>> = {
  forgetsOfflineQueue: 'transaction messages produced while offline (StopTransaction, MeterValues, SessionSummary) are lost when the link comes back',
  wrongResetStopReason: 'a Reset (Soft or Hard) stops the running session with reason PowerLoss instead of SoftReset / HardReset',
  ignoresHeartbeatInterval: 'the interval in BootNotification.conf is ignored: heartbeats keep the HeartbeatInterval the station had',
  meterValuesWithoutTransactionId: 'MeterValues sent during a transaction carry no transactionId',
  doesNotPersistConfiguration: 'keys changed by ChangeConfiguration fall back to their initial values at every reboot (and are never written to disk)',
  skipsChargingStatus: 'no StatusNotification Charging: the connector goes from Preparing to the next status without reporting it',
  reportsUnknownKeysAsKnown: 'GetConfiguration lists unknown keys in configurationKey with an empty value instead of in unknownKey',
};

export type Defects = ReadonlySet<Defect>;

/** The station's defects, or undefined for a healthy station (the common case, checked with `defects?.has`). */
export function defectsOf(list: readonly Defect[] | undefined): Defects | undefined {
  return list && list.length > 0 ? new Set(list) : undefined;
}
