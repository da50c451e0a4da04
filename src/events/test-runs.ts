// Progress of a charger test run as the bus carries it (src/charger-tests/ produces it, push/ forwards it to
// operators who asked for it with `tests:subscribe`).

export type TestRunUpdateKind = 'started' | 'step' | 'case' | 'ask' | 'finished';

export interface TestRunUpdate {
  readonly runId: string;
  readonly chargeBoxId: string;
  readonly kind: TestRunUpdateKind;
  /** One line for a terminal or a status bar, e.g. "[3/14] core-heartbeat-interval: pass (4.1 s)". */
  readonly line: string;
  /** The run at this moment without its case results (RunReport in src/charger-tests/result.ts less `cases`). */
  readonly report: object;
  /** With kind "case": the result of the case that just finished (CaseResult), evidence included. */
  readonly case?: object;
}
