// The reader's own per-row work on the catch-up path, apart from the library's decoding: Translator.applyRows and
// commit over 1000-row transactions of connector_meter_value rows shaped as @vlasky/zongji hands them out (strings
// built by concatenation, as its TIMESTAMP decoder does), 4 measurands per sample.
// Usage: [FRESH=1] npx tsx bench/cdc/translate.ts [rows=1000000] [rounds=5]
import { performance } from 'node:perf_hooks';
import type { RowData } from '@vlasky/zongji';
import { Topology } from '../../src/cdc/topology.js';
import { NAMING } from '../../src/cdc/schema.js';
import { Translator } from '../../src/cdc/translate.js';
import { median } from '../lib/proc.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const TX = 1000;
const MEASURANDS = ['Energy.Active.Import.Register', 'SoC', 'Voltage', 'Current.Import'];

const pad = (n: number, size: number): string => {
  const s = '00000000000000000000000000000000' + n;
  return s.substr(s.length - size);
};
/** As the library builds it: a concatenation of pieces, not a flat string. */
function timestamp(ms: number): string {
  const d = new Date(ms);
  return pad(d.getUTCFullYear(), 4) + '-' + pad(d.getUTCMonth() + 1, 2) + '-' + pad(d.getUTCDate(), 2) + ' ' + pad(d.getUTCHours(), 2) + ':' + pad(d.getUTCMinutes(), 2) + ':' + pad(d.getUTCSeconds(), 2) + '.' + pad(0, 6);
}
const utf8 = (s: string): string => Buffer.from(s).toString('utf8');

/** One transaction's rows, fresh objects and strings as the library makes them per pass. */
function rowsOf(first: number): RowData[] {
  const rows: RowData[] = [];
  for (let i = 0; i < TX; i++) {
    const r = first + i;
    const row: RowData = {};
    row.evse_pk = 1;
    row.transaction_pk = null;
    row.value_timestamp = timestamp(Date.UTC(2026, 1, 1) + Math.floor(r / 4) * 1000);
    row.value = utf8(String(r));
    row.reading_context = utf8('Sample.Periodic');
    row.format = null;
    row.measurand = utf8(MEASURANDS[r % 4]!);
    row.location = null;
    row.unit = utf8('Wh');
    row.phase = null;
    rows.push(row);
  }
  return rows;
}

const topo = new Topology(NAMING.evse);
topo.addConnector(1, { charge_box_id: 'BENCH', evse_id: 1 });
const translator = new Translator(topo, { unmapped: () => undefined });
let sink = 0;
// FRESH=1: new rows for every transaction, as the library makes them (their garbage lands in the timed part too);
// otherwise 20 transactions' rows are made once and translated again and again (only the translator allocates).
const fresh = process.env.FRESH === '1';
const kept = Array.from({ length: 20 }, (_, i) => rowsOf(i * TX));
const pass = (): { ms: number; events: number } => {
  let events = 0;
  let ms = 0;
  for (let done = 0; done < ROWS; done += TX) {
    const rows = fresh ? rowsOf(done) : kept[(done / TX) % kept.length]!; // the library's part: not timed
    const t = performance.now();
    const tx = { key: `0-1-${done}`, statement: 'other' as const, receivedAt: new Date().toISOString() };
    translator.applyRows('connector_meter_value', 'insert', rows, 0, 0, tx);
    const out = translator.commit();
    ms += performance.now() - t;
    events += out.length;
    sink += out.length;
  }
  return { ms, events };
};
pass();
const times: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const p = pass();
  times.push(p.ms);
  console.log(`heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB round ${i + 1}: ${p.ms.toFixed(0)} ms for ${ROWS} rows (${((p.ms * 1000) / ROWS).toFixed(3)} µs per row), ${p.events} events`);
}
console.log(`median: ${median(times).toFixed(0)} ms, ${((median(times) * 1000) / ROWS).toFixed(3)} µs per row; fastest ${((Math.min(...times) * 1000) / ROWS).toFixed(3)} µs per row${sink > 0 ? "" : "!"}`);
