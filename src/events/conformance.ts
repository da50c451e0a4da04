// A passive conformance finding as the bus carries it: a frame that breaks a sequence or consistency rule of
// OCPP 1.6 (src/conformance/ produces them; charger test runs and the REST API read them).

export interface ConformanceFinding {
  /** Stable rule id, e.g. "boot.notAccepted". */
  readonly rule: string;
  readonly chargeBoxId: string;
  /** Message-log id of the frame that broke the rule. */
  readonly logId: number;
  readonly time: string;
  readonly message: string;
}
