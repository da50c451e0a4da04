// Sums a V8 CPU profile (node --cpu-prof) by function: self time and inclusive time, optionally within a window of
// seconds from the profile's start (to leave out set-up), plus busy milliseconds per second to find that window.
// Use: node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/push/binlog.ts --only one
//      node bench/lib/cpu-report.mjs /tmp/prof/CPU.*.0.001.cpuprofile [fromS toS] [rows]
import { readFileSync } from 'node:fs';

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const from = Number(process.argv[3] ?? 0);
const to = Number(process.argv[4] ?? Infinity);
const rows = Number(process.argv[5] ?? 30);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (id) => {
  const { functionName, url, lineNumber } = byId.get(id).callFrame;
  return `${functionName || '(anonymous)'} ${url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${lineNumber}`;
};

const busyPerSecond = new Map();
const inWindow = new Map(); // node id → µs sampled in the window
let t = profile.startTime;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  const s = (t - profile.startTime) / 1e6;
  if (byId.get(id).callFrame.functionName !== '(idle)') busyPerSecond.set(Math.floor(s), (busyPerSecond.get(Math.floor(s)) ?? 0) + dt);
  if (s >= from && s < to) inWindow.set(id, (inWindow.get(id) ?? 0) + dt);
});

const self = new Map();
const inclusive = new Map();
let total = 0;
for (const [id, us] of inWindow) {
  total += us;
  self.set(name(id), (self.get(name(id)) ?? 0) + us);
  const seen = new Set();
  for (let c = id; c !== undefined; c = parent.get(c)) {
    const k = name(c);
    if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    seen.add(k);
  }
}
const print = (title, map) => {
  console.log(title);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  ${k}`);
};
console.log(`busy ms per second: ${[...busyPerSecond].sort((a, b) => a[0] - b[0]).map(([s, us]) => `${s}:${(us / 1000).toFixed(0)}`).join(' ')}`);
console.log(`window ${from}–${to} s: ${(total / 1000).toFixed(0)} ms sampled`);
print('self time:', self);
print('inclusive time:', inclusive);
