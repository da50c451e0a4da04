// A gateway stand-in in its own process, so a test can kill -9 it: runs the binlog reader and appends every
// event it hands on to OUT (one JSON line, written synchronously before the reader checkpoints), with the number of
// the event-loop turn it was handed on in (the reader records positions at the end of a turn).
import { appendFileSync } from 'node:fs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Bus } from '../../src/events/bus.js';
import { createCdcReader, parseCdcConfig } from '../../src/cdc/index.js';

const out = process.env.OUT;
const dataDir = process.env.DATA_DIR;
const config = parseCdcConfig(process.env);
if (!out || !dataDir || !config) throw new Error('OUT, DATA_DIR and STEVE_DB_URL are required');
const bus = new Bus();
let turn = 0;
let turnEnds: NodeJS.Immediate | undefined;
bus.on('eventInput', (e) => {
  turnEnds ??= setImmediate(() => {
    turn++;
    turnEnds = undefined;
  });
  appendFileSync(out, `${JSON.stringify({ id: e.id, type: e.type, connectorId: e.connectorId, turn })}\n`);
});
const reader = createCdcReader({ config, bus, logger: pino({ level: 'silent' }), dataDir, registry: new Registry() });
await reader.start();
process.stdout.write('started\n');
process.on('SIGTERM', () => void reader.stop().then(() => process.exit(0)));
