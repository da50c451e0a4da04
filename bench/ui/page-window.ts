// One measured window of a page in Chromium: main-thread time (Chromium's TaskDuration) and its script / style /
// layout parts per second, tasks over 50 ms (Long Tasks API), optionally the frame interval, and optionally a
// CPU profile of the window (CDP Profiler) summarised by self time.
import { writeFileSync } from 'node:fs';
import type { CDPSession, Page } from 'playwright-core';

export interface WindowFigures {
  readonly seconds: number;
  /** Main-thread busy, script, style and layout, in ms per second. */
  readonly mainMsPerS: number;
  readonly scriptMsPerS: number;
  readonly styleMsPerS: number;
  readonly layoutMsPerS: number;
  readonly longTasks: readonly number[];
  readonly frames: readonly number[];
  readonly heapUsedMiB: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function metrics(cdp: CDPSession): Promise<Map<string, number>> {
  const { metrics: list } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return new Map(list.map((m) => [m.name, m.value]));
}

interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly dur?: number;
  readonly tid: number;
  readonly args?: { readonly name?: string };
}

/** Chromium's own trace of the window, main thread only: time per kind of top-level work (paint, script, IPC…). */
async function traced(cdp: CDPSession, run: () => Promise<void>): Promise<void> {
  const events: TraceEvent[] = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...(e.value as unknown as TraceEvent[])));
  const done = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
  await cdp.send('Tracing.start', { categories: 'devtools.timeline,disabled-by-default-devtools.timeline,toplevel,v8', transferMode: 'ReportEvents' });
  await run();
  await cdp.send('Tracing.end');
  await done;
  // The renderer main thread that did the most work (a browser may name several CrRendererMain threads).
  const busy = new Map<number, number>();
  const mains = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => e.tid));
  for (const e of events) if (mains.has(e.tid) && e.ph === 'X') busy.set(e.tid, (busy.get(e.tid) ?? 0) + (e.dur ?? 0));
  const main = [...busy.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const totals = new Map<string, number>();
  for (const e of events) {
    if (e.tid !== main || e.ph !== 'X' || e.dur === undefined) continue;
    totals.set(e.name, (totals.get(e.name) ?? 0) + e.dur / 1000);
  }
  console.log('  trace (main thread, inclusive ms, nested kinds overlap):');
  for (const [name, ms] of [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, 18)) console.log(`    ${ms.toFixed(0).padStart(7)} ms  ${name}`);
}

/** Measures `seconds` of the page as it is. frames: also a requestAnimationFrame probe (it costs the page itself). */
export async function measureWindow(page: Page, cdp: CDPSession, seconds: number, opts: { frames: boolean; profile?: string; trace?: boolean }): Promise<WindowFigures> {
  await page.evaluate(`(() => {
    window.__long = [];
    window.__longObserver?.disconnect();
    window.__longObserver = new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long.push(e.duration); });
    window.__longObserver.observe({ type: 'longtask' });
    window.__frames = [];
    window.__stopFrames = false;
    let last = performance.now();
    const loop = (t) => { window.__frames.push(t - last); last = t; if (!window.__stopFrames) requestAnimationFrame(loop); };
    if (${opts.frames}) requestAnimationFrame(loop);
  })()`);
  if (opts.profile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
  }
  const before = await metrics(cdp);
  const t0 = Date.now();
  if (opts.trace) await traced(cdp, () => sleep(seconds * 1000));
  else await sleep(seconds * 1000);
  const after = await metrics(cdp);
  const wallS = (Date.now() - t0) / 1000;
  if (opts.profile) {
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: CpuProfile };
    writeFileSync(opts.profile, JSON.stringify(profile));
    printTopSelf(profile, 15);
  }
  const d = (name: string): number => ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / wallS;
  const longTasks = (await page.evaluate('window.__long')) as number[];
  const frames = (await page.evaluate('(window.__stopFrames = true, window.__frames)')) as number[];
  return {
    seconds: wallS,
    mainMsPerS: d('TaskDuration') * 1000,
    scriptMsPerS: d('ScriptDuration') * 1000,
    styleMsPerS: d('RecalcStyleDuration') * 1000,
    layoutMsPerS: d('LayoutDuration') * 1000,
    longTasks,
    frames,
    heapUsedMiB: (after.get('JSHeapUsedSize') ?? 0) / 1048576,
  };
}

/** The functions with the most self time in a CPU profile (what the page's script spends its time in). */
function printTopSelf(profile: CpuProfile, n: number): void {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byNode.get(id);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    total += dt;
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/\/[^/]+\//, '')}:${lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  console.log(`  CPU profile        ${(total / 1000).toFixed(1)} s sampled; top self time:`);
  for (const [key, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`    ${ms.toFixed(0).padStart(7)} ms  ${key}`);
  }
}

export function printWindow(label: string, w: WindowFigures, floor: WindowFigures | undefined): void {
  const ratio = floor && floor.mainMsPerS > 0 ? ` = ${(w.mainMsPerS / floor.mainMsPerS).toFixed(1)}× the idle floor` : '';
  console.log(`  ${label.padEnd(18)} main thread ${w.mainMsPerS.toFixed(0)} ms/s (${(w.mainMsPerS / 10).toFixed(1)} % of a core)${ratio}; script ${w.scriptMsPerS.toFixed(0)}, style ${w.styleMsPerS.toFixed(0)}, layout ${w.layoutMsPerS.toFixed(0)} ms/s`);
  const longest = w.longTasks.length > 0 ? `, longest ${Math.max(...w.longTasks).toFixed(0)} ms` : ' (every task under 50 ms)';
  let frames = '';
  if (w.frames.length > 0) {
    const sorted = [...w.frames].sort((a, b) => a - b);
    const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
    frames = `; frame interval p50 ${pct(0.5).toFixed(1)} / p99 ${pct(0.99).toFixed(1)} / max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms`;
  }
  console.log(`  ${''.padEnd(18)} tasks > 50 ms ${w.longTasks.length}${longest}${frames}; JS heap ${w.heapUsedMiB.toFixed(1)} MiB`);
}
