// Suites of test cases on disk: <dir>/<suite>/*.yaml|*.yml|*.json, run in file-name order.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CaseError, loadCase, type TestCase } from './case.js';

export interface SuiteListing {
  readonly suite: string;
  readonly cases: readonly { readonly name: string; readonly title: string; readonly spec: string; readonly requires: readonly string[] }[];
}

const CASE_FILE = /\.(ya?ml|json)$/i;

export function listSuites(dir: string): string[] {
  try {
    return readdirSync(dir).filter((d) => /^[a-z0-9][a-z0-9-]*$/.test(d) && statSync(path.join(dir, d)).isDirectory()).sort();
  } catch {
    return [];
  }
}

/** The whole catalogue: every suite in order, case names unique across them. */
export const ALL_SUITES = 'all';

/** Loads and checks every case of a suite (or of all, `all`); throws CaseError naming the file and field of the first bad one. */
export function loadSuite(dir: string, suite: string): TestCase[] {
  if (suite === ALL_SUITES) return unique(listSuites(dir).filter((s) => s !== ALL_SUITES).flatMap((s) => loadSuite(dir, s)), suite);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(suite)) throw new CaseError(`suite name ${JSON.stringify(suite)} is not valid (lower-case letters, digits, dashes)`);
  const folder = path.join(dir, suite);
  let files: string[];
  try {
    files = readdirSync(folder).filter((f) => CASE_FILE.test(f)).sort();
  } catch {
    throw new CaseError(`no suite "${suite}" in ${dir} (suites: ${listSuites(dir).join(', ') || 'none'})`);
  }
  return unique(files.map((f) => loadCase(path.join(folder, f))), suite);
}

function unique(cases: TestCase[], suite: string): TestCase[] {
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.name)) throw new CaseError(`${c.file ?? suite}: case name "${c.name}" appears twice in suite ${suite}`);
    seen.add(c.name);
  }
  return cases;
}

/** Picks cases by name, in the suite's order; unknown names throw. */
export function selectCases(cases: readonly TestCase[], names: readonly string[] | undefined): TestCase[] {
  if (!names || names.length === 0) return [...cases];
  const known = new Set(cases.map((c) => c.name));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new CaseError(`unknown case ${unknown.join(', ')} (cases: ${[...known].join(', ')})`);
  return cases.filter((c) => names.includes(c.name));
}

export function describeSuite(suite: string, cases: readonly TestCase[]): SuiteListing {
  return { suite, cases: cases.map((c) => ({ name: c.name, title: c.title, spec: c.spec, requires: c.requires })) };
}
