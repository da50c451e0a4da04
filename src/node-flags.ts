// The V8 flags the gateway is started with (npm start, the benches, the fuzzer; README "Start and stop" shows them
// for systemd and containers). One place, so what is measured is what runs.
//
// A 64 MiB semi-space (V8's default on Node 20 is 16): the gateway allocates about 20 KiB per relayed call, almost
// all of it garbage within a turn, so with the default young generation it paused for a scavenge about once a
// second at 1,000 calls/s, and those pauses were its p99. Four times the room means a quarter of the pauses, each
// about as long (their cost is what survives, not the room). The price: up to 96 MiB more RSS (counted in the
// memory ceiling, src/metrics/memory.ts) and a longer tail on binlog commit → client, where fewer pauses are each
// longer. Measured in BENCHMARKS.md ("Relay, 2026-12-07, second pass").
export const SEMI_SPACE_MB = 64;

export const GATEWAY_NODE_FLAGS: readonly string[] = [`--max-semi-space-size=${SEMI_SPACE_MB}`];

/** Whether the process was started with a young-generation size of its own (the flags above, or an operator's). */
export function hasSemiSpaceFlag(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => a.startsWith('--max-semi-space-size'));
}

/** V8's own semi-space on Node 20, in MiB. */
const DEFAULT_SEMI_SPACE_MB = 16;
/** RSS the larger young generation may add over V8's default (two semi-spaces), counted in the memory ceiling. */
export const YOUNG_GENERATION_EXTRA_BYTES = 2 * (SEMI_SPACE_MB - DEFAULT_SEMI_SPACE_MB) * 1024 * 1024;
