// One connector_meter_value row as an OCPP SampledValue.
import type { Mutable, SampledValue } from '../events/catalogue.js';
import { text, textOr } from './values.js';

const DEFAULT_MEASURAND = 'Energy.Active.Import.Register';

/** One connector_meter_value row as an OCPP SampledValue (the default measurand filled in). */
export function sampledValue(row: Record<string, unknown>): SampledValue {
  return new Reading(
    textOr(row.value, ''), text(row.measurand) ?? DEFAULT_MEASURAND,
    text(row.unit), text(row.reading_context), text(row.format), text(row.location), text(row.phase),
  );
}

/**
 * A sampled value. A class rather than a literal grown field by field: the engine sizes its instances for all
 * seven fields, so optional ones need no second allocation (this runs once per meter row, here and in the batch
 * codec). `declare` keeps absent fields absent, as in a literal.
 */
export class Reading implements SampledValue {
  declare readonly value: string;
  declare readonly measurand: string;
  declare readonly unit?: string;
  declare readonly context?: string;
  declare readonly format?: string;
  declare readonly location?: string;
  declare readonly phase?: string;

  constructor(value: string, measurand: string, unit?: string, context?: string, format?: string, location?: string, phase?: string) {
    const self = this as Mutable<Reading>;
    self.value = value;
    self.measurand = measurand;
    if (unit !== undefined) self.unit = unit;
    if (context !== undefined) self.context = context;
    if (format !== undefined) self.format = format;
    if (location !== undefined) self.location = location;
    if (phase !== undefined) self.phase = phase;
  }
}
