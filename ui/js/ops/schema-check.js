// Checks a value against the JSON-schema subset the OCPP 1.6J request schemas use (type, required,
// properties, additionalProperties, enum, maxLength, minItems, items, multipleOf, format date-time), so a
// form is refused in the page with the field named before anything is sent. The gateway checks again.

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function typeOk(type, v) {
  switch (type) {
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'integer': return Number.isInteger(v);
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    default: return true;
  }
}

/** The problems of `value` against `schema`: [{ path: 'csChargingProfiles.stackLevel', message }]; [] when valid. */
export function checkSchema(schema, value, path = '') {
  const at = (p) => (path ? `${path}.${p}` : p);
  const label = path || 'the request';
  if (schema.type && !typeOk(schema.type, value)) return [{ path: label, message: `must be ${schema.type === 'integer' ? 'a whole number' : `a ${schema.type}`}` }];
  const problems = [];
  if (schema.enum && !schema.enum.includes(value)) problems.push({ path: label, message: `must be one of ${schema.enum.join(', ')}` });
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push({ path: label, message: `is ${value.length} characters; at most ${schema.maxLength}` });
    if (schema.format === 'date-time' && !(DATE_TIME.test(value) && Number.isFinite(Date.parse(value)))) problems.push({ path: label, message: 'must be a date-time like 2026-01-31T12:00:00Z' });
  }
  if (typeof value === 'number' && schema.multipleOf !== undefined) {
    const q = value / schema.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9) problems.push({ path: label, message: `must be a multiple of ${schema.multipleOf}` });
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) problems.push({ path: label, message: `needs at least ${schema.minItems} item(s)` });
    if (schema.items) value.forEach((item, i) => problems.push(...checkSchema(schema.items, item, `${path}[${i}]`)));
  }
  if (typeOk('object', value) && (schema.type === 'object' || schema.properties)) {
    const props = schema.properties ?? {};
    for (const name of schema.required ?? []) if (!Object.hasOwn(value, name)) problems.push({ path: at(name), message: 'is required' });
    for (const [name, v] of Object.entries(value)) {
      const sub = props[name];
      if (sub) problems.push(...checkSchema(sub, v, at(name)));
      else if (schema.additionalProperties === false) problems.push({ path: at(name), message: 'is not a field of this action' });
    }
  }
  return problems;
}
