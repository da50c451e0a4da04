// Sums a V8 CPU profile (node --cpu-prof) over its busy stretches only: runs of consecutive non-idle samples of at
// least `minMs`, i.e. what a well-behaved frame can wait behind. Prints their count and longest, then self time by
// function and time by the nearest frame of the gateway's own code (src/ or dist/).
// Use: node bench/lib/stretch-report.mjs /tmp/prof/CPU.*.cpuprofile [minMs=5] [fromS toS] (a window in seconds from the
// profile's start, e.g. to leave out set-up; bench/lib/cpu-report.mjs prints busy ms per second to find it)
import { readFileSync } from 'node:fs';
const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const minMs = Number(process.argv[3] ?? 5);
const fromS = Number(process.argv[4] ?? 0);
const toS = Number(process.argv[5] ?? Infinity);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (id) => { const { functionName, url, lineNumber } = byId.get(id).callFrame; return `${functionName || '(anon)'} ${url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|dist|bench)\//, '$1/')}:${lineNumber}`; };
// attribute each sample to the nearest own-code frame (src/ or dist/) and to self
let stretch = []; const stretches = [];
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  at += dt;
  const s = (at - profile.startTime) / 1e6;
  if (s < fromS || s >= toS) {
    if (stretch.length) stretches.push(stretch);
    stretch = [];
    return;
  }
  const idle = byId.get(id).callFrame.functionName === '(idle)';
  if (idle) { if (stretch.length) stretches.push(stretch); stretch = []; return; }
  stretch.push([id, dt]);
});
const self = new Map(), own = new Map(); let total = 0; const lens = [];
for (const s of stretches) {
  const len = s.reduce((a, [, d]) => a + d, 0) / 1000;
  if (len < minMs) continue;
  lens.push(len);
  for (const [id, dt] of s) {
    total += dt;
    self.set(label(id), (self.get(label(id)) ?? 0) + dt);
    let c = id, k = '(no own frame)';
    const fn = byId.get(id).callFrame.functionName;
    if (fn === '(garbage collector)' || fn === '(program)') k = fn;
    else for (; c !== undefined; c = parent.get(c)) { const u = byId.get(c).callFrame.url; if (/\/(src|dist)\//.test(u) && !/node_modules/.test(u)) { k = label(c); break; } }
    own.set(k, (own.get(k) ?? 0) + dt);
  }
}
lens.sort((a, b) => b - a);
console.log(`stretches >= ${minMs} ms: ${lens.length}, total ${(total / 1000).toFixed(0)} ms, longest ${lens.slice(0, 8).map((x) => x.toFixed(0)).join(', ')}`);
const pr = (t, m) => { console.log(t); for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  ${k}`); };
pr('self:', self); pr('nearest own frame:', own);
