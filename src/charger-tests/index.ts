// Charger test runs (docs/charger-tests.md): cases, the runner, runs kept by the gateway, reports.
export { CaseError, loadCase, parseCase, type TestCase, type CaseStep } from './case.js';
export { describeSuite, listSuites, loadSuite, selectCases, type SuiteListing } from './catalogue.js';
export { TestRuns, type TestRunsDeps, type StartRequest } from './runs.js';
export { runCase, notApplicable } from './runner.js';
export type { AskAnswer, AskOperator, Hands, OwnCallOutcome, StationCalls, TestCsPort } from './ports.js';
export * from './result.js';
export { toJUnit } from './report/junit.js';
export { toHtml } from './report/html.js';
export { caseLine, summaryText } from './report/text.js';
