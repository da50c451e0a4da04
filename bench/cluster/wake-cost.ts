// What one wake-up of a Node.js process costs in CPU on this machine: a timer that fires after the process went idle,
// at several intervals, against setImmediate (no sleep in between). The work per wake-up is nil, so what is measured
// is the kernel's and the runtime's cost of sleeping and waking. A V8 CPU profile does not show it (the thread is
// "(idle)" in epoll_wait while the kernel does it); /proc and process.cpuUsage() count it. bench/cluster/run.ts
// prints the wake-ups of the nodes' main threads per call beside their CPU.
// Usage: npx tsx bench/cluster/wake-cost.ts
const rows: string[] = [];
for (const ms of [0, 1, 2, 5, 10, 20]) {
  const n = ms === 0 ? 20_000 : Math.min(1000, Math.floor(3000 / ms));
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await new Promise((r) => (ms === 0 ? setImmediate(r) : setTimeout(r, ms)));
  const c = process.cpuUsage(c0);
  rows.push(`${ms === 0 ? 'setImmediate (no sleep)' : `setTimeout every ${ms} ms`}: ${((c.user + c.system) / n).toFixed(1)} µs CPU per wake-up (user ${(c.user / n).toFixed(1)}, system ${(c.system / n).toFixed(1)}), ${n} wake-ups`);
}
console.log(rows.join('\n'));
