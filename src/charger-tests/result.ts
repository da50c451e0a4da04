// What a charger test run produces: per case a verdict with the frames that prove it. Shared by the runner,
// the reports (JUnit, HTML, text), REST, Socket.IO and the command line; plain JSON all the way.

export const VERDICTS = ['pass', 'fail', 'inconclusive', 'not_applicable'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** One frame cited as evidence: its message-log id and enough to read it without the log. */
export interface EvidenceFrame {
  readonly logId: number;
  readonly time: string;
  /** "station→cs", "cs→station", "gateway→station", "station→gateway". */
  readonly flow: string;
  readonly messageType?: string;
  readonly action?: string;
  readonly raw: string;
}

export interface StepOutcome {
  readonly index: number;
  readonly label: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail?: string;
  /** Message-log ids of the frames this step matched or caused. */
  readonly logIds: readonly number[];
}

export interface CaseResult {
  readonly name: string;
  readonly title: string;
  /** The behaviour of the specification the case checks, with its section. */
  readonly spec: string;
  readonly profile: string;
  readonly verdict: Verdict;
  /** Why the verdict is not pass: the expectation that failed, or why the case could not run. */
  readonly reason?: string;
  /** The step whose expectation failed. */
  readonly failedStep?: { readonly index: number; readonly label: string; readonly expectation: string };
  readonly steps: readonly StepOutcome[];
  /** Frames that prove the verdict (matched frames; for a failure also the frames seen in the window). */
  readonly evidence: readonly EvidenceFrame[];
  readonly startedAt: string;
  readonly ms: number;
  /** Frames the recorder had to drop (byte budget): the evidence may be incomplete. */
  readonly framesDropped?: number;
  /** Passive conformance findings on the station's frames during the case (they do not change the verdict). */
  readonly findings?: readonly { readonly rule: string; readonly logId: number; readonly message: string }[];
}

export interface RunSummary {
  readonly total: number;
  readonly pass: number;
  readonly fail: number;
  readonly inconclusive: number;
  readonly not_applicable: number;
}

export type RunState = 'running' | 'finished' | 'aborted';

export interface PendingAsk {
  readonly askId: string;
  readonly caseName: string;
  readonly prompt: string;
  /** ISO time after which the step is inconclusive. */
  readonly until: string;
}

export interface RunReport {
  readonly runId: string;
  readonly chargeBoxId: string;
  readonly suite: string;
  /** Where the station's frames go: the embedded (test) central system or SteVe. */
  readonly mode: 'local' | 'steve';
  /** Station seconds per real second (simulated stations on a fast clock); 1 for real boards. */
  readonly timeScale: number;
  readonly state: RunState;
  readonly startedAt: string;
  readonly finishedAt?: string;
  /** The case running now and its step. */
  readonly current?: { readonly caseName: string; readonly step: string };
  readonly ask?: PendingAsk;
  readonly cases: readonly CaseResult[];
  /** Names of the cases still to run, in order. */
  readonly queued: readonly string[];
  readonly summary: RunSummary;
}

export function summarize(cases: readonly CaseResult[]): RunSummary {
  const s = { total: cases.length, pass: 0, fail: 0, inconclusive: 0, not_applicable: 0 };
  for (const c of cases) s[c.verdict]++;
  return s;
}

/** Exit code for the command line: failures and inconclusive cases both need a look. */
export function exitCodeOf(report: RunReport): number {
  if (report.state === 'aborted') return 3;
  if (report.summary.fail > 0) return 1;
  if (report.summary.inconclusive > 0) return 2;
  return 0;
}
