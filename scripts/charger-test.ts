// Runs a suite of charger test cases against a station connected to a running gateway, and writes the reports:
//   npm run charger-test -- --station ID [--gateway http://host:8080] [--token T] [--suite core] [--case NAME]...
//                           [--junit FILE] [--json FILE] [--html FILE] [--time-scale N]
// The gateway runs the cases (POST /api/stations/:id/tests); this prints a line per case as it finishes, asks in
// the terminal when a step needs a hand on the board (Enter = done, s + Enter = skip), and exits 0 when every case
// passed or was not applicable, 1 on failures, 2 when something was inconclusive, 3 when the run was aborted,
// 4 when the run could not start.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { caseLine, exitCodeOf, summaryText, toHtml, toJUnit, type RunReport } from '../src/charger-tests/index.js';

const USAGE = `usage: npm run charger-test -- --station ID [--gateway http://localhost:8080] [--token JWT] [--suite core]
       [--case NAME]... [--junit FILE] [--json FILE] [--html FILE] [--time-scale N]
  The token is an operator JWT (npm run -s token -- --role operator); TOKEN in the environment works too.
  Suites (folders of charger-tests/): core, remote-trigger, reservation, local-auth-list, smart-charging, security;
  all = every suite (GET /api/test-suites lists them with their cases).`;

interface Options {
  readonly gateway: string;
  readonly token: string | undefined;
  readonly station: string;
  readonly suite: string;
  readonly cases: readonly string[];
  readonly junit?: string | undefined;
  readonly json?: string | undefined;
  readonly html?: string | undefined;
  readonly timeScale?: number | undefined;
}

function parse(argv: string[]): Options | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        gateway: { type: 'string', default: process.env.GATEWAY_URL ?? 'http://localhost:8080' },
        token: { type: 'string' },
        station: { type: 'string' },
        suite: { type: 'string', default: 'core' },
        case: { type: 'string', multiple: true },
        junit: { type: 'string' },
        json: { type: 'string' },
        html: { type: 'string' },
        'time-scale': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    return (err as Error).message;
  }
  if (values.help) return '';
  if (!values.station) return '--station is required: the chargeBoxId of a station connected to the gateway';
  try {
    new URL(values.gateway ?? '');
  } catch {
    return `--gateway must be a URL like http://localhost:8080, got ${JSON.stringify(values.gateway)}`;
  }
  let timeScale: number | undefined;
  if (values['time-scale'] !== undefined) {
    timeScale = Number(values['time-scale']);
    if (!(timeScale > 0 && timeScale <= 1000)) return '--time-scale must be a number in (0, 1000]';
  }
  return {
    gateway: values.gateway!.replace(/\/+$/, ''),
    token: values.token ?? process.env.TOKEN,
    station: values.station,
    suite: values.suite ?? 'core',
    cases: (values.case ?? []).flatMap((c) => c.split(',')).map((c) => c.trim()).filter((c) => c !== ''),
    junit: values.junit,
    json: values.json,
    html: values.html,
    timeScale,
  };
}

async function api(o: Options, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${o.gateway}${path}`, {
    method,
    headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { error: { message: text.slice(0, 200) } };
  }
  return { status: res.status, json };
}

const errorText = (json: Record<string, unknown>): string => {
  const e = json.error as { message?: string } | undefined;
  return e?.message ?? JSON.stringify(json);
};

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  if (typeof o === 'string') {
    process.stderr.write(o ? `${o}\n${USAGE}\n` : '');
    if (!o) process.stdout.write(`${USAGE}\n`);
    return o ? 64 : 0;
  }
  let start;
  try {
    start = await api(o, 'POST', `/api/stations/${encodeURIComponent(o.station)}/tests`, {
      suite: o.suite, ...(o.cases.length ? { cases: o.cases } : {}), ...(o.timeScale !== undefined ? { timeScale: o.timeScale } : {}),
    });
  } catch (err) {
    process.stderr.write(`cannot reach the gateway at ${o.gateway}: ${(err as Error).message}\nIs it running? Pass its address with --gateway.\n`);
    return 4;
  }
  if (start.status === 401) {
    process.stderr.write(`the gateway wants a token: ${errorText(start.json)}\nPass an operator token with --token (npm run -s token -- --role operator).\n`);
    return 4;
  }
  if (start.status !== 202) {
    process.stderr.write(`the run did not start (HTTP ${start.status}): ${errorText(start.json)}\n`);
    return 4;
  }
  const runId = String(start.json.runId);
  const total = (start.json.cases as string[]).length;
  process.stdout.write(`running ${total} case(s) of suite ${o.suite} on ${o.station} (run ${runId})\n`);

  const rl = createInterface({ input: process.stdin, terminal: false });
  const lines: string[] = [];
  const lineWaiters: ((l: string) => void)[] = [];
  rl.on('line', (l) => {
    const w = lineWaiters.shift();
    if (w) w(l);
    else lines.push(l);
  });
  process.once('SIGINT', () => {
    process.stdout.write('\naborting the run…\n');
    void api(o, 'DELETE', `/api/tests/${runId}`).finally(() => process.exit(130));
  });

  let printed = 0;
  let lastStep = '';
  let askedId = '';
  let report: RunReport | undefined;
  for (;;) {
    const r = await api(o, 'GET', `/api/tests/${runId}`).catch(() => undefined);
    if (r?.status === 200) {
      report = r.json as unknown as RunReport;
      for (; printed < report.cases.length; printed++) process.stdout.write(`${caseLine(report.cases[printed]!, printed + 1, total)}\n`);
      const step = report.current ? `${report.current.caseName}: ${report.current.step}` : '';
      if (step && step !== lastStep && process.stdout.isTTY) process.stdout.write(`  · ${step}\n`);
      lastStep = step;
      const ask = report.ask;
      if (ask && ask.askId !== askedId) {
        askedId = ask.askId;
        process.stdout.write(`\n>>> ${ask.caseName}: ${ask.prompt}\n    press Enter when done, or s + Enter to skip (until ${ask.until})\n`);
        void new Promise<string>((resolve) => (lines.length ? resolve(lines.shift()!) : lineWaiters.push(resolve))).then((l) =>
          api(o, 'POST', `/api/tests/${runId}/asks/${ask.askId}`, { answer: /^s/i.test(l.trim()) ? 'skipped' : 'done' }).catch(() => undefined),
        );
      }
      if (report.state !== 'running') break;
    } else if (r) {
      process.stderr.write(`lost the run (HTTP ${r.status}): ${errorText(r.json)}\n`);
      rl.close();
      return 4;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
  rl.close();
  if (o.junit) writeFileSync(o.junit, toJUnit(report));
  if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  if (o.html) writeFileSync(o.html, toHtml(report));
  process.stdout.write(`\n${summaryText(report)}\n`);
  for (const [kind, file] of [['JUnit', o.junit], ['JSON', o.json], ['HTML', o.html]] as const) if (file) process.stdout.write(`  ${kind} report: ${file}\n`);
  return exitCodeOf(report);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`charger-test failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(4);
  },
);
