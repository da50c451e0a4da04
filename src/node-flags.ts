// The V8 flags the gateway is started with (npm start, the benches, the fuzzer; README "Start and stop" shows them
// for systemd and containers). One place, so what is measured is what runs.
//
// A young generation of a fixed 8 MiB per semi-space (V8's default on Node 20 grows up to 16 and shrinks again).
// The gateway allocates about 18 KiB per relayed call, almost all of it garbage within a turn, and its p99 is set by
// the scavenges that garbage causes. Fixed, because what a scavenge costs is partly the pages it touches: on a
// machine where a page's first touch is dear (BENCHMARKS.md "A machine where fresh memory is dear"), a young
// generation that grows and shrinks faults pages back in at every scavenge; a fixed one reuses its pages. 8 rather
// than 16 (shipped until the twelfth session): what a scavenge copies is what lives at that moment, and objects the
// gateway keeps (events, calls waiting for answers) are copied until promoted; half the space, each pause about half
// as long and twice as many, which the relay bench's p99 and the fuzz's pause tail prefer (BENCHMARKS.md, "Eight
// MiB"). Measured side by side in the relay bench and under fuzz.
export const SEMI_SPACE_MB = 8;

export const GATEWAY_NODE_FLAGS: readonly string[] = [`--min-semi-space-size=${SEMI_SPACE_MB}`, `--max-semi-space-size=${SEMI_SPACE_MB}`];

/** Whether the process was started with a young-generation size of its own (the flags above, or an operator's). */
export function hasSemiSpaceFlag(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => a.startsWith('--max-semi-space-size'));
}

/** V8's own semi-space on Node 20, in MiB. */
const DEFAULT_SEMI_SPACE_MB = 16;
/** RSS the start command's young generation may add over V8's default (two semi-spaces; none at or below 16 MiB),
 * counted in the memory ceiling. */
export const YOUNG_GENERATION_EXTRA_BYTES = Math.max(0, 2 * (SEMI_SPACE_MB - DEFAULT_SEMI_SPACE_MB) * 1024 * 1024);
