// The fuzzer: hostile stations against the real gateway process, next to well-behaved ones, in embedded and relay
// mode. Prints a report and exits 0 only when nothing was violated (README, "Fuzzing").
//   npm run fuzz -- --frames N --seconds S [--seed X] [--mode local|relay|both] [options below]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CATEGORIES, type Category } from './fuzz/frames.js';
import { root, type Entry } from './fuzz/gateway-process.js';
import { freshMemoryMsPerMiB } from './fuzz/machine.js';
import { randomSeed } from './fuzz/prng.js';
import { runMode, type Mode, type RunOptions } from './fuzz/run.js';

const USAGE = `usage: npm run fuzz -- --frames N --seconds S [--seed X] [--mode local|relay|both]
  [--baseline-seconds S] [--entry src|dist] [--max-frame-bytes B] [--hostile N] [--steady N] [--steady-interval-ms MS]
  [--call-timeout-ms MS] [--rss-ceiling-mb MB] [--max-p99-ratio R (0 = off)] [--only cat,cat | --skip cat,cat]
categories: ${CATEGORIES.join(', ')}`;

class UsageError extends Error {}
class HelpRequested extends Error {}

function positive(name: string, text: string | undefined, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${text}"`);
  return n;
}

function categoryList(name: string, text: string): Category[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of list) if (!(CATEGORIES as readonly string[]).includes(c)) throw new UsageError(`--${name}: unknown category "${c}"`);
  return list as Category[];
}

function options(argv: string[]): { modes: Mode[]; run: Omit<RunOptions, 'mode' | 'progress'> } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      frames: { type: 'string' },
      seconds: { type: 'string' },
      seed: { type: 'string' },
      mode: { type: 'string', default: 'both' },
      'baseline-seconds': { type: 'string' },
      entry: { type: 'string', default: 'src' },
      'max-frame-bytes': { type: 'string' },
      hostile: { type: 'string' },
      steady: { type: 'string' },
      'steady-interval-ms': { type: 'string' },
      'call-timeout-ms': { type: 'string' },
      'rss-ceiling-mb': { type: 'string' },
      'max-p99-ratio': { type: 'string' },
      only: { type: 'string' },
      skip: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) throw new HelpRequested();
  if (values.frames === undefined || values.seconds === undefined) throw new UsageError('--frames and --seconds are required');
  const mode = values.mode;
  if (mode !== 'local' && mode !== 'relay' && mode !== 'both') throw new UsageError(`--mode must be local, relay or both, got "${mode}"`);
  const entry = values.entry;
  if (entry !== 'src' && entry !== 'dist') throw new UsageError(`--entry must be src (tsx) or dist (npm run build first), got "${entry}"`);
  if (entry === 'dist' && !existsSync(path.join(root, 'dist/main.js'))) throw new UsageError('--entry dist needs dist/main.js: run npm run build first');
  if (values.seed !== undefined && !/^\d+$/.test(values.seed)) throw new UsageError(`--seed must be a non-negative integer, got "${values.seed}"`);
  if (values.only !== undefined && values.skip !== undefined) throw new UsageError('use --only or --skip, not both');
  const seconds = positive('seconds', values.seconds, 0);
  let categories: Category[] = [...CATEGORIES];
  if (values.only !== undefined) categories = categoryList('only', values.only);
  if (values.skip !== undefined) {
    const skip = categoryList('skip', values.skip);
    categories = categories.filter((c) => !skip.includes(c));
  }
  return {
    modes: mode === 'both' ? ['local', 'relay'] : [mode],
    run: {
      frames: Math.floor(positive('frames', values.frames, 0)),
      seconds,
      baselineSeconds: positive('baseline-seconds', values['baseline-seconds'], Math.min(30, Math.max(2, seconds / 4))),
      seed: values.seed !== undefined ? Number(values.seed) >>> 0 : randomSeed(),
      entry: entry as Entry,
      maxFrameBytes: Math.floor(positive('max-frame-bytes', values['max-frame-bytes'], 65_536)),
      hostileStations: Math.floor(positive('hostile', values.hostile, 8)),
      steadyStations: Math.floor(positive('steady', values.steady, 4)),
      steadyIntervalMs: positive('steady-interval-ms', values['steady-interval-ms'], 50),
      callTimeoutMs: positive('call-timeout-ms', values['call-timeout-ms'], 5000),
      ...(values['rss-ceiling-mb'] !== undefined ? { rssCeilingBytes: positive('rss-ceiling-mb', values['rss-ceiling-mb'], 1024) * 1024 * 1024 } : {}),
      maxP99Ratio: positive('max-p99-ratio', values['max-p99-ratio'], 2, true),
      categories,
    },
  };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof options>;
  try {
    parsed = options(process.argv.slice(2));
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const message = (err as Error).message;
    process.stderr.write(`fuzz: ${message}\n${USAGE}\n`);
    return err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  }
  const { modes, run } = parsed;
  process.stdout.write(`fuzz: seed ${run.seed} (repeat with --seed ${run.seed}); ${run.frames} frames in ${run.seconds} s per mode; modes ${modes.join(', ')}; entry ${run.entry}\n`);
  process.stdout.write(`fuzz: machine: fresh memory costs ${freshMemoryMsPerMiB().toFixed(2)} ms per MiB to allocate and first touch (scripts/fuzz/machine.ts)\n`);
  // Bounded in time whatever happens: start-up, phases, drain and stop, per mode, plus slack.
  const budgetMs = modes.length * (90 + run.baselineSeconds + run.seconds * 1.5 + (run.callTimeoutMs / 1000) * 2 + 40) * 1000;
  const watchdog = setTimeout(() => {
    process.stdout.write(`fuzz: VIOLATION fuzzer-watchdog: the run took more than ${Math.round(budgetMs / 1000)} s and was stopped\n`);
    process.exit(3); // children are killed by the exit hook
  }, budgetMs);
  watchdog.unref();
  let total = 0;
  for (const mode of modes) {
    const result = await runMode({ ...run, mode, progress: (line) => process.stderr.write(`fuzz: ${line}\n`) });
    for (const line of result.lines) process.stdout.write(`fuzz: ${line}\n`);
    total += result.violations.count();
  }
  clearTimeout(watchdog);
  process.stdout.write(total === 0 ? 'fuzz: PASS, 0 violations\n' : `fuzz: FAIL, ${total} violations (seed ${run.seed})\n`);
  return total === 0 ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: the fuzzer failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(3);
  },
);
