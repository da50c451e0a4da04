// A batch of events as JSON text for the trip from the reader thread to the main thread. meterValues events, most
// of a catch-up, go as flat arrays (no property names to write, read and look up per sampled value); the others go
// as they are. decode(encode(events)) equals events field for field, absent fields absent.
import type { EventInput, Mutable, SampledValue } from '../events/catalogue.js';
import { Reading } from './meter-row.js';

/** Fields of one sampled value in the flat form; an absent optional field is null. */
const SAMPLE_FIELDS = 7;

type Meter = EventInput<'meterValues'>;

export function encodeBatch(events: readonly EventInput[]): string {
  const out: unknown[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.type !== 'meterValues' || e.source !== 'steve') {
      out[i] = e;
      continue;
    }
    const m = e as Meter;
    const values = m.data.sampledValues;
    const flat: unknown[] = [m.id, m.chargeBoxId, m.connectorId ?? null, m.transactionId ?? null, m.timestamp, m.receivedAt];
    for (const v of values) flat.push(v.value, v.measurand, v.unit ?? null, v.context ?? null, v.format ?? null, v.location ?? null, v.phase ?? null);
    out[i] = flat;
  }
  return JSON.stringify(out);
}

export function decodeBatch(text: string): EventInput[] {
  const raw = JSON.parse(text) as unknown[];
  const events: EventInput[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i];
    events[i] = Array.isArray(r) ? meterEvent(r) : (r as EventInput);
  }
  return events;
}

function meterEvent(f: unknown[]): Meter {
  const sampledValues: SampledValue[] = [];
  for (let k = 6; k + SAMPLE_FIELDS <= f.length; k += SAMPLE_FIELDS) sampledValues.push(readingAt(f, k));
  const e: Mutable<Meter> = {
    id: f[0] as string,
    type: 'meterValues',
    chargeBoxId: f[1] as string,
    timestamp: f[4] as string,
    receivedAt: f[5] as string,
    source: 'steve',
    data: { sampledValues },
  };
  if (f[2] !== null) e.connectorId = f[2] as number;
  if (f[3] !== null) e.transactionId = f[3] as number;
  return e;
}

/** The sampled value at `k` of the flat form (null: absent). */
const readingAt = (f: unknown[], k: number): Reading =>
  new Reading(f[k] as string, f[k + 1] as string, opt(f[k + 2]), opt(f[k + 3]), opt(f[k + 4]), opt(f[k + 5]), opt(f[k + 6]));

const opt = (v: unknown): string | undefined => (v === null ? undefined : (v as string));
