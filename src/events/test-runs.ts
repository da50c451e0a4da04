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

// Charger test runs across gateway nodes: the contract between the REST routes (src/api/tests-routes.ts), which
// serve this node's runs, and cluster mode (src/cluster/routed-tests.ts), which reaches the other nodes' runs.

/** A REST answer as it travels between nodes: status, content type (JSON when absent) and body. */
export interface TestsReply {
  readonly status: number;
  readonly type?: string;
  readonly body: unknown;
}

export type TestRunOp =
  | { readonly op: 'get'; readonly format: string }
  | { readonly op: 'answer'; readonly askId: string; readonly answer: unknown }
  | { readonly op: 'abort' };

/** This node's runs, as its REST routes serve them. */
export interface TestsHere {
  start(chargeBoxId: string, body: unknown): TestsReply;
  /** Undefined: this node keeps no run with that id. */
  run(runId: string, op: TestRunOp): TestsReply | undefined;
  list(): readonly object[];
}

/** What the REST routes ask of the other nodes. */
export interface TestsAcrossNodes {
  serve(here: TestsHere): void;
  /** The other live node holding the station, if any. */
  holder(chargeBoxId: string): Promise<string | undefined>;
  start(node: string, chargeBoxId: string, body: unknown): Promise<TestsReply>;
  /** The run on the other node that keeps it; undefined when no node does. */
  run(runId: string, op: TestRunOp): Promise<TestsReply | undefined>;
  /** Every other live node's runs (with `node`), naming those that did not answer. */
  list(): Promise<{ runs: object[]; unanswered: { node: string; message: string }[] }>;
}
