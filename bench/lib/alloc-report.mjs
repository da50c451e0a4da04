// Sums a sampling heap profile (bench/lib/alloc-probe.mjs): bytes allocated in total, by function, and by the
// nearest frame in the gateway's own source (src/<module>/...), so observers can be told from the relay.
// Use: node bench/lib/alloc-report.mjs /tmp/chargebridge-alloc-<pid>.heapprofile [rows]
import { readFileSync } from 'node:fs';

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const rows = Number(process.argv[3] ?? 20);
const byFunction = new Map();
const bySource = new Map();
let total = 0;
const add = (map, key, n) => map.set(key, (map.get(key) ?? 0) + n);

(function walk(node, ownFrame) {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber}`;
  const own = /\/src\//.test(url) ? name : ownFrame;
  total += node.selfSize;
  add(byFunction, name, node.selfSize);
  add(bySource, own ?? '(outside src/)', node.selfSize);
  for (const child of node.children) walk(child, own);
})(profile.head, undefined);

const mb = (n) => (n / 1e6).toFixed(1).padStart(7);
console.log(`allocated: ${mb(total)} MB`);
console.log('by function:');
for (const [k, n] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${mb(n)} MB  ${k}`);
console.log('by nearest gateway frame:');
for (const [k, n] of [...bySource].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${mb(n)} MB  ${(100 * n / total).toFixed(1).padStart(5)} %  ${k}`);
