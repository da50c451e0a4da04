// What recording one event costs in the event model, in one process without I/O to Redis: every cluster node does
// this for every node's events (docs/cluster.md), so it is the per-node share the cluster cannot avoid while each
// node answers snapshots and replay itself. Inputs go through the source rule, sequencer, history and (first run)
// station state; the JSON.parse of the same lines is shown apart.
// Usage: npx tsx bench/cluster/model-cost.ts [--events 60000] [--stations 200]
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Bus } from '../../src/events/bus.js';
import type { EventInput } from '../../src/events/catalogue.js';
import { createEventModel } from '../../src/events/index.js';
import { arg } from '../lib/proc.js';

const n = arg('events', 60_000);
const stations = arg('stations', 200);
const cpu = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / n;
};

async function run(withState: boolean): Promise<{ parse: number; model: number }> {
  const bus = new Bus();
  const model = createEventModel({ bus, dataDir: mkdtempSync(path.join(os.tmpdir(), 'cb-model-cost-')), logger: pino({ level: 'silent' }), binlogConfigured: false });
  await model.start();
  if (!withState) model.state.detach();
  const at = new Date().toISOString();
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({
    id: `e${i}`, type: i % 2 ? 'heartbeat' : 'status', chargeBoxId: `S${i % stations}`, connectorId: 1, timestamp: at, receivedAt: at, source: 'station',
    data: i % 2 ? {} : { status: 'Available', errorCode: 'NoError', info: String(i), synthetic: false },
  }));
  let t = process.cpuUsage();
  for (const line of lines) JSON.parse(line);
  const parse = cpu(t);
  t = process.cpuUsage();
  for (const line of lines) bus.emit('eventInput', JSON.parse(line) as EventInput);
  await new Promise((r) => setImmediate(r)); // the history's journal write
  const model_ = cpu(t);
  await model.stop();
  return { parse, model: model_ };
}

for (let round = 0; round < 2; round++) {
  const a = await run(true);
  const b = await run(false);
  console.log(`round ${round + 1}: JSON.parse ${a.parse.toFixed(1)} µs; parse + rule + seq + history + state ${a.model.toFixed(1)} µs; without state ${b.model.toFixed(1)} µs per event`);
}
