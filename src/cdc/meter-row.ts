// One connector_meter_value row as an OCPP SampledValue.
import type { Mutable, SampledValue } from '../events/catalogue.js';
import { text, textOr } from './values.js';

const DEFAULT_MEASURAND = 'Energy.Active.Import.Register';

/** One connector_meter_value row as an OCPP SampledValue (the default measurand filled in). */
export function sampledValue(row: Record<string, unknown>): SampledValue {
  return new MeterReading(row);
}

/**
 * One meter row as a sampled value. A class rather than a literal grown field by field: the engine sizes its
 * instances for all seven fields, so optional ones need no second allocation (this runs once per meter row).
 * `declare` keeps absent fields absent, as in a literal.
 */
class MeterReading implements SampledValue {
  declare readonly value: string;
  declare readonly measurand: string;
  declare readonly unit?: string;
  declare readonly context?: string;
  declare readonly format?: string;
  declare readonly location?: string;
  declare readonly phase?: string;

  constructor(row: Record<string, unknown>) {
    const self = this as Mutable<MeterReading>;
    self.value = textOr(row.value, '');
    self.measurand = text(row.measurand) ?? DEFAULT_MEASURAND;
    const unit = text(row.unit);
    if (unit !== undefined) self.unit = unit;
    const context = text(row.reading_context);
    if (context !== undefined) self.context = context;
    const format = text(row.format);
    if (format !== undefined) self.format = format;
    const location = text(row.location);
    if (location !== undefined) self.location = location;
    const phase = text(row.phase);
    if (phase !== undefined) self.phase = phase;
  }
}
