// Sums V8 CPU profiles of several processes (node --cpu-prof) over one window on the monotonic clock the profiles
// use (bench/cluster/run.ts prints each phase's `mono=` µs), by module (a package under node_modules, a folder under
// src/, node's internals, GC, program), as µs per unit: set side by side what one node and three nodes spend per call.
// Use: node bench/cluster/profile-split.mjs <fromMono> <toMono> <units> <file...> [--fn N] (N: also the N costliest
//      functions by self time)
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const fnAt = args.indexOf('--fn');
const fnRows = fnAt >= 0 ? Number(args.splice(fnAt, 2)[1]) : 0;
const [from, to, units, ...files] = args;
const byModule = new Map();
const byFn = new Map();
let total = 0;
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < Number(from) || t >= Number(to)) return;
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') return;
    total += dt;
    const mod = moduleOf(functionName, url);
    byModule.set(mod, (byModule.get(mod) ?? 0) + dt);
    const fn = `${functionName || '(anonymous)'} ${url.replace(/.*node_modules\//, '').replace(/^file:\/\/.*?\/(dist|src|bench)\//, '$1/')}:${lineNumber}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + dt);
  });
}

function moduleOf(fn, url) {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const own = /\/(?:dist|src)\/([^/]+)(?:\/|$)/.exec(url);
  if (own) return own[1].endsWith('.js') ? 'src/(top)' : `src/${own[1]}`;
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}

const n = Number(units);
console.log(`${files.length} profile(s), ${(total / 1000).toFixed(0)} ms busy in the window, ${n} units: ${(total / n).toFixed(1)} µs per unit`);
for (const [k, us] of [...byModule].sort((a, b) => b[1] - a[1])) if (us / n >= 0.5) console.log(`${(us / n).toFixed(1).padStart(8)} µs  ${k}`);
if (fnRows > 0) {
  console.log('functions, self time:');
  for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, fnRows)) console.log(`${(us / n).toFixed(1).padStart(8)} µs  ${k}`);
}
