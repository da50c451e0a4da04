// What fresh memory costs on this machine: the fuzz figures depend on it more than on the CPU. A large frame is a
// new mapping of its size at every step that copies it (V8 puts each string of 128 KiB or more in pages of its own),
// and every page of it is faulted in on first touch, which on the bench machine of 2026-12-07 (ninth session) cost
// 3.5 ms per MiB (BENCHMARKS.md, "Fuzz"). Printed beside the figures so that runs on different days or machines can
// be read side by side.
const MIB = 1024 * 1024;

/** Milliseconds per MiB to allocate and first touch `mib` MiB of new memory (the median of three tries). */
export function freshMemoryMsPerMiB(mib = 64): number {
  const tries: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    // Buffer.alloc of this size is a fresh mapping, zeroed lazily by the kernel: fill touches every page.
    Buffer.alloc(mib * MIB).fill(1);
    tries.push((performance.now() - t0) / mib);
  }
  return tries.sort((a, b) => a - b)[1] as number;
}
