// The SteVe stand-in for the simulator benchmark, in its own process: heartbeat interval 60 s in
// BootNotification.conf, GetConfiguration after every connect (as SteVe does). Prints its port, then its
// socket count (and the benchmark process's RSS) every 250 ms so the benchmark can see stations arrive and return.
import { readFileSync } from 'node:fs';
import { startSteveDouble } from '../../test/support/steve-double.js';

// The benchmark process may run out of descriptors (and then cannot read its own /proc): measure its RSS from here.
function parentRss(): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${process.ppid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

const steve = await startSteveDouble({
  knownStations: 'any',
  handlers: { BootNotification: () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 60 }) },
});
let frames = 0;
setInterval(() => {
  frames += steve.received.length;
  steve.received.splice(0); // keep memory flat: the benchmark only counts
  process.stdout.write(`sockets ${steve.sockets.size} frames ${frames} parent-rss ${parentRss()}\n`);
}, 250).unref();
process.stdout.write(`steve-port ${steve.port}\n`);
setInterval(() => undefined, 1 << 30);
