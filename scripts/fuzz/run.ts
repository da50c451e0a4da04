// One fuzz run against one fresh gateway process, in one mode: a baseline phase (well-behaved stations alone),
// a fuzz phase (hostile stations join), a drain, then the checks. Everything it starts is stopped in `finally`.
import { createGatewayHome, dropCounters, startGatewayProcess, type Entry, type GatewayExit, type GatewayHome, type GatewayProcess } from './gateway-process.js';
import { CLOSING_CATEGORIES, createFrameGenerator, type Category } from './frames.js';
import { DOT_IDS, handshakeStatus, HostileStation } from './hostile.js';
import { formatLoopDelay } from './loop-delay.js';
import { createRng } from './prng.js';
import { checkReadApis } from './read-apis.js';
import { startSteadyStations, type SteadyReport, type SteadyStations } from './steady-client.js';
import { sample } from './ocpp-check.js';
import { startUpstreamProcess, type UpstreamProcess, type UpstreamReport } from './upstream-client.js';
import { Violations } from './violations.js';

export type Mode = 'local' | 'relay';

/** When neither --rss-ceiling-mb nor the gateway states a ceiling. */
const DEFAULT_RSS_CEILING_BYTES = 1024 * 1024 * 1024;

export interface RunOptions {
  readonly mode: Mode;
  readonly frames: number;
  readonly seconds: number;
  readonly baselineSeconds: number;
  readonly seed: number;
  readonly entry: Entry;
  readonly maxFrameBytes: number;
  readonly hostileStations: number;
  readonly steadyStations: number;
  readonly steadyIntervalMs: number;
  readonly callTimeoutMs: number;
  /** Given with --rss-ceiling-mb: wins over the gateway's own `memory.ceilingBytes`, which is used otherwise. */
  readonly rssCeilingBytes?: number;
  /** Fuzz-phase p99 over baseline p99 above which the run fails; 0 turns the check off. */
  readonly maxP99Ratio: number;
  readonly categories: readonly Category[];
  readonly progress: (line: string) => void;
}

export interface RunResult {
  readonly mode: Mode;
  readonly violations: Violations;
  readonly lines: string[];
}

const DRAIN_MS = 8000;

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const ms = (v: number): string => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(2)} ms`);
const mb = (v: number): string => `${(v / 1024 / 1024).toFixed(0)} MiB`;
/** The thrown error and where it came from, out of a dead process's last output. */
function crashSummary(tail: string): string {
  const lines = tail.split('\n');
  const at = lines.findIndex((l) => /^\w*(Error|Exception)\b.*:/.test(l));
  if (at < 0) return 'no error in its last output (killed from outside?)';
  const frames = lines.slice(at + 1).filter((l) => /^\s+at /.test(l));
  const frame = (frames.find((l) => /[(\s]\/.*\/(src|dist)\//.test(l)) ?? frames[0] ?? '').trim();
  return `${lines[at]?.trim()} ${frame}`.trim();
}

const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

export async function runMode(o: RunOptions): Promise<RunResult> {
  const v = new Violations();
  const lines: string[] = [];
  const tag = `[${o.mode === 'local' ? 'embedded' : 'relay'}] `;
  let upstream: UpstreamProcess | undefined;
  let upstreamReport: UpstreamReport | undefined;
  let home: GatewayHome | undefined;
  let gw: GatewayProcess | undefined;
  let steady: SteadyStations | undefined;
  const hostiles: HostileStation[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let peakRss = 0;
  let died: GatewayExit | undefined;
  let crashTail: string | undefined;
  try {
    if (o.mode === 'relay') upstream = await startUpstreamProcess();
    home = createGatewayHome();
    const env = { MAX_FRAME_BYTES: String(o.maxFrameBytes), ...(upstream ? { STEVE_WS_URL: upstream.url } : {}) };
    gw = await startGatewayProcess(o.entry, home, env);
    const g = gw;
    lines.push(`${tag}gateway pid ${g.pid} (${o.entry === 'dist' ? 'dist/main.js' : 'src/main.ts via tsx'}), MAX_FRAME_BYTES ${o.maxFrameBytes}${upstream ? `, upstream stand-in ${upstream.url}` : ''}`);
    const stationUrl = `ws://127.0.0.1:${g.port}/ocpp`;
    sampler = setInterval(() => {
      const m = g.memory();
      if (m) peakRss = Math.max(peakRss, m.peak, m.rss);
    }, 200);
    sampler.unref();
    const dead = (): boolean => g.exit() !== undefined;

    steady = await startSteadyStations({ url: stationUrl, stations: o.steadyStations, intervalMs: o.steadyIntervalMs, callTimeoutMs: o.callTimeoutMs });
    steady.phase('baseline');
    o.progress(`${tag}baseline: ${o.steadyStations} well-behaved stations alone for ${o.baselineSeconds} s`);
    await sleep(o.baselineSeconds * 1000);

    // ── fuzz phase ──
    steady.phase('fuzz');
    const rng = createRng(o.seed);
    const answerRng = createRng(o.seed ^ 0x5bd1e995);
    const gen = createFrameGenerator(rng, o.categories);
    // Half the hostile links never get a frame that must close them: they live the whole run, so every answer
    // they are owed is checked at the end, not excused by a close.
    const lasting = o.categories.filter((c) => !CLOSING_CATEGORIES.has(c));
    const genLasting = lasting.length > 0 ? createFrameGenerator(createRng(o.seed ^ 0x2545f491), lasting) : gen;
    const byCategory = new Map<Category, number>();
    let linkSeq = 0;
    const unexpectedCloses: string[] = [];
    const missing: ReturnType<HostileStation['unanswered']> = [];
    /** Stations that sent the deepest or largest frames: the read APIs are checked for them. */
    const worst: string[] = [];
    let idSeq = 0;
    const open = (): HostileStation =>
      new HostileStation({ url: stationUrl, chargeBoxId: `FUZZ-${++linkSeq}`, rng: answerRng, violations: v, embedded: o.mode === 'local' });
    for (let i = 0; i < o.hostileStations; i++) hostiles.push(open());
    upstream?.startCalls(200, 'FUZZ-');
    const probes: Array<Promise<void>> = [];
    const probe = (id: string): void => {
      probes.push(
        handshakeStatus(g.port, `/ocpp/${id}`).then((status) => {
          if (status === 101) v.add('unsafe-id-accepted', `chargeBoxId path segment "${id}" was accepted at the handshake`);
        }),
      );
    };
    for (const id of DOT_IDS) probe(id);

    const started = Date.now();
    const rate = o.frames / o.seconds;
    let sent = 0;
    let lastProgress = started;
    let rr = 0;
    while (sent < o.frames && Date.now() - started < o.seconds * 1000 && !dead()) {
      const due = Math.min(o.frames, Math.ceil(rate * ((Date.now() - started) / 1000)));
      for (let burst = 0; sent < due && burst < 50; burst++) {
        const ready = hostiles.filter((h) => h.sendable);
        if (ready.length === 0) break;
        const h = ready[rr++ % ready.length] as HostileStation;
        const slot = hostiles.indexOf(h);
        for (const frame of (slot % 2 === 1 ? genLasting : gen).next({ nextId: () => `f${++idSeq}`, maxFrameBytes: o.maxFrameBytes })) {
          h.send(frame);
          sent++;
          if ((frame.category === 'deep-nesting' || frame.category === 'huge-string') && worst.length < 3 && !worst.includes(h.chargeBoxId)) worst.push(h.chargeBoxId);
          byCategory.set(frame.category, (byCategory.get(frame.category) ?? 0) + 1);
        }
      }
      // A link closed by the gateway is replaced, so the number of hostile stations stays the same.
      for (let i = 0; i < hostiles.length; i++) {
        const h = hostiles[i] as HostileStation;
        if (!h.closed) continue;
        if (h.unexpectedClose !== undefined) unexpectedCloses.push(h.unexpectedClose);
        else missing.push(...h.unanswered().slice(0, 3));
        hostiles[i] = open();
      }
      if (rng.chance(0.002)) probe(rng.pick(DOT_IDS));
      if (Date.now() - lastProgress >= 2000) {
        lastProgress = Date.now();
        const m = g.memory();
        o.progress(`${tag}${((Date.now() - started) / 1000).toFixed(0)} s: ${sent}/${o.frames} frames, ${linkSeq} hostile links, rss ${m ? mb(m.rss) : '-'}, violations so far ${v.count()}`);
      }
      await sleep(5);
    }
    const fuzzSeconds = (Date.now() - started) / 1000;

    // ── drain: answers still owed arrive, closes that are due happen ──
    steady.phase('drain');
    const drainUntil = Date.now() + DRAIN_MS;
    while (Date.now() < drainUntil && !dead() && hostiles.some((h) => h.unanswered().length > 0 || h.missingClose() !== undefined)) await sleep(100);
    await Promise.all(probes);

    if (upstream) {
      upstreamReport = await upstream.report().catch((err: unknown) => {
        v.add('upstream-stand-in', (err as Error).message);
        return undefined;
      });
      if (upstreamReport) v.merge(upstreamReport.violations);
    }
    const readsChecked = dead() ? 0 : await checkReadApis(g, worst, v, 'while running');
    const health = await g.health();
    const finalMem = g.memory();
    if (finalMem) peakRss = Math.max(peakRss, finalMem.peak);
    died = g.exit();
    const report: SteadyReport | undefined = await steady.stop(o.callTimeoutMs + 10_000).catch((err: unknown) => {
      v.add('steady-stations', (err as Error).message);
      return undefined;
    });
    steady = undefined;

    // ── checks ──
    if (died) {
      v.add('process-died', `the gateway exited (code ${died.code}, signal ${died.signal}) during the fuzz phase: ${crashSummary(g.tail(8000))}`);
      crashTail = g.tail(2500);
    }
    // Only closing categories chosen (--only binary): every frame costs a new connection, so the rate is not a finding.
    const onlyClosing = lasting.length === 0;
    if (!died && !onlyClosing && sent < o.frames * 0.5) {
      v.add('too-few-frames', `only ${sent} of ${o.frames} frames could be sent in ${fuzzSeconds.toFixed(1)} s: hostile links were not answered or kept being closed`);
    }
    if (!died) {
      for (const c of [...unexpectedCloses, ...hostiles.flatMap((h) => h.unexpectedClose ?? [])]) v.add('unexpected-close', c);
      for (const u of missing) v.add('missing-answer', `a ${u.category} CALL with id "${u.id.slice(0, 40)}" got no answer (its link was closed later): ${u.sample}`);
      for (const h of hostiles) {
        if (h.closed && h.unexpectedClose !== undefined) continue;
        for (const u of h.unanswered().slice(0, 3)) v.add('missing-answer', `a ${u.category} CALL with id "${u.id.slice(0, 40)}" got no answer: ${u.sample}`);
        const mc = h.missingClose();
        if (mc) v.add('no-close', `a ${mc.category} frame did not close the link with ${mc.code}`);
      }
    }
    let baselineP99 = Number.NaN;
    let fuzzP99 = Number.NaN;
    if (report) {
      const { baseline, fuzz } = report.phases;
      baselineP99 = percentile(baseline.rtts, 99);
      fuzzP99 = percentile(fuzz.rtts, 99);
      for (const [name, s] of [['baseline', baseline], ['fuzz', fuzz]] as const) {
        if (died) continue; // the crash is the finding; what it did to these calls is its consequence
        if (s.timeouts > 0) v.add('steady-timeout', `${s.timeouts} well-behaved calls unanswered after ${o.callTimeoutMs} ms in the ${name} phase`);
        for (const w of s.wrong) v.add('steady-wrong-answer', `${name}: ${w}`);
        if (s.answered === 0 && !died) v.add('steady-unanswered', `no well-behaved call was answered in the ${name} phase`);
      }
      for (const c of report.closes) if (!died) v.add('steady-close', c);
      lines.push(
        `${tag}well-behaved: baseline ${baseline.answered} answered, p50 ${ms(percentile(baseline.rtts, 50))}, p99 ${ms(baselineP99)}, ${baseline.timeouts} timeouts`,
        `${tag}well-behaved: under fuzz ${fuzz.answered} answered, p50 ${ms(percentile(fuzz.rtts, 50))}, p99 ${ms(fuzzP99)}, ${fuzz.timeouts} timeouts; p99 ratio ${(fuzzP99 / baselineP99).toFixed(2)}`,
      );
      // The harness's own delays are in those round trips too (its processes share the machine with the gateway).
      if (baseline.loop && fuzz.loop) lines.push(`${tag}well-behaved stations' own event loop: baseline ${formatLoopDelay(baseline.loop)}; under fuzz ${formatLoopDelay(fuzz.loop)}`);
      if (!died && o.maxP99Ratio > 0 && fuzzP99 > o.maxP99Ratio * baselineP99) {
        v.add('p99-ratio', `well-behaved p99 under fuzz ${ms(fuzzP99)} is more than ${o.maxP99Ratio}× the baseline's ${ms(baselineP99)}`);
      }
    }
    const memory = health?.memory as { ceilingBytes?: unknown } | undefined;
    const stated = typeof memory?.ceilingBytes === 'number' ? memory.ceilingBytes : undefined;
    const ceiling = o.rssCeilingBytes ?? stated ?? DEFAULT_RSS_CEILING_BYTES;
    const ceilingFrom = o.rssCeilingBytes !== undefined ? '--rss-ceiling-mb' : stated !== undefined ? '/api/health memory.ceilingBytes' : 'the default of 1024 MiB';
    if (peakRss > ceiling) v.add('rss-ceiling', `peak RSS ${mb(peakRss)} is over the ceiling ${mb(ceiling)} (${ceilingFrom})`);
    const drops = health ? dropCounters(health) : [];
    lines.push(
      `${tag}gateway: ${died ? `DIED (code ${died.code}, signal ${died.signal})` : 'alive'}; peak RSS ${mb(peakRss)} (ceiling ${mb(ceiling)} from ${ceilingFrom})`,
      `${tag}frames: ${sent} sent in ${fuzzSeconds.toFixed(1)} s over ${linkSeq} hostile links; ${[...byCategory].map(([c, n]) => `${c} ${n}`).join(', ')}`,
      ...(upstreamReport ? [`${tag}upstream: ${upstreamReport.received} frames received, ${v.count('malformed-upstream')} malformed, ${upstreamReport.answered} calls answered; its own event loop over the run ${formatLoopDelay(upstreamReport.loop)}`] : []),
      `${tag}drops: ${drops.length ? drops.map(([k, n]) => `${k} ${n}`).join(', ') : health ? 'none reported' : 'health not readable'}`,
    );
    // Not a drop: the hostile stations' findings over the per-second cap, reported in one finding per station and second.
    const capped = (health?.events as { findingsCapped?: unknown } | undefined)?.findingsCapped;
    if (typeof capped === 'number') lines.push(`${tag}findings: ${capped} not sent as events (over EVENTS_FINDINGS_PER_SECOND), counted in one report per station and second`);
    // Where large frames were decoded: on the gateway's decoder thread, or in place (src/relay/frame-decoder.ts).
    const large = health?.largeFrames as Record<string, unknown> | undefined;
    if (large) lines.push(`${tag}large frames: ${['offThread', 'heads', 'headsRedone', 'inPlace', 'inboxPauses', 'inboxFlushes', 'threadFailures'].map((k) => `${k} ${String(large[k])}`).join(', ')}`);
    if (!died && gw) {
      const ended = await gw.stop();
      // What a preload passed in BENCH_NODE_ARGS printed at SIGTERM (bench/lib/loop-probe.mjs).
      for (const probe of gw.tail(8000).split('\n').filter((l) => l.startsWith('loop-probe:'))) lines.push(`${tag}${probe}`);
      gw = undefined;
      if (ended.code !== 0) v.add('unclean-shutdown', `SIGTERM ended the gateway with code ${ended.code}, signal ${ended.signal}`);
      // What was stored must still be readable by the next process on the same DATA_DIR.
      try {
        gw = await startGatewayProcess(o.entry, home, env);
        const again = await checkReadApis(gw, worst, v, 'after a restart');
        lines.push(`${tag}read APIs: ${readsChecked} requests while running, ${again} after a restart on the same DATA_DIR`);
        const second = await gw.stop();
        gw = undefined;
        if (second.code !== 0) v.add('unclean-shutdown', `SIGTERM ended the restarted gateway with code ${second.code}, signal ${second.signal}`);
      } catch (err) {
        v.add('restart-failed', `the gateway did not start again on the fuzzed DATA_DIR: ${sample((err as Error).message, 300)}`);
      }
    }
  } finally {
    if (sampler) clearInterval(sampler);
    for (const h of hostiles) h.close();
    steady?.kill();
    await gw?.stop(2000);
    upstream?.close();
    home?.remove();
  }
  lines.push(...v.lines(tag));
  if (crashTail !== undefined) lines.push(`${tag}the gateway's last output:`, ...crashTail.split('\n').map((l) => `${tag}| ${l}`));
  return { mode: o.mode, violations: v, lines };
}
