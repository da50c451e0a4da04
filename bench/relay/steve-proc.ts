// The SteVe stand-in as its own process, so the load generator and the gateway do not share its CPU.
import { startSteveDouble } from '../../test/support/steve-double.js';

const steve = await startSteveDouble({ knownStations: 'any', getConfigurationOnConnect: false });
// Keep memory flat over long runs: the benchmark does not inspect received frames.
setInterval(() => steve.received.splice(0), 1000).unref();
process.stdout.write(`steve-port ${steve.port}\n`);
