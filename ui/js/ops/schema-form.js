// A form built from an OCPP request schema: a select for an enum, a number field for an integer / number, a
// checkbox for a boolean, a text field for a string (datetime-local turned into UTC for date-time), a fieldset
// per nested object, and a JSON text area for an array. read() returns the payload (empty optional fields
// left out) or the field that cannot be read.
import { h } from '../dom.js';

let uid = 0;

function describe(schema) {
  const bits = [];
  if (schema.maxLength !== undefined) bits.push(`up to ${schema.maxLength} characters`);
  if (schema.format === 'date-time') bits.push('your local time, sent as UTC');
  if (schema.type === 'array') bits.push(`a JSON array${schema.items?.type ? ` of ${schema.items.type}s` : ''}`);
  if (schema.multipleOf !== undefined) bits.push(`steps of ${schema.multipleOf}`);
  return bits.join('; ');
}

/** Builds the fields of `schema` (an object schema) into `container`; returns a reader. defaults: { name: value }. */
export function buildSchemaForm(container, schema, defaults = {}) {
  const readers = [];
  const form = objectFields(schema, '', defaults, readers);
  container.replaceChildren(...form);
  return {
    /** { ok: true, payload } or { ok: false, path, message, input } */
    read() {
      const payload = {};
      for (const r of readers) {
        const got = r.read();
        if (!got.ok) return got;
        if (got.value !== undefined) setPath(payload, r.path, got.value);
      }
      return { ok: true, payload };
    },
    /** The input that edits `path` (to focus the field a problem names). */
    input(path) {
      return readers.find((r) => r.path === path)?.input;
    },
  };
}

function setPath(obj, path, value) {
  const parts = path.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = o[p] ??= {};
  o[parts.at(-1)] = value;
}

function objectFields(schema, prefix, defaults, readers) {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, sub]) => {
    const path = prefix ? `${prefix}.${name}` : name;
    const isRequired = required.has(name);
    if (sub.type === 'object') {
      return h('fieldset', { class: 'schema-object' }, h('legend', {}, name, isRequired ? ' (required)' : ' (optional)'), ...objectFields(sub, path, defaults, readers));
    }
    return field(name, path, sub, isRequired, defaults[path], readers);
  });
}

function field(name, path, schema, isRequired, initial, readers) {
  const id = `sf-${++uid}`;
  const hintText = describe(schema);
  const hintId = hintText ? `${id}-hint` : undefined;
  let input;
  if (schema.enum) {
    input = h('select', { id, 'aria-describedby': hintId }, isRequired ? null : h('option', { value: '' }, '(not sent)'), ...schema.enum.map((v) => h('option', { value: v }, v)));
    if (initial !== undefined) input.value = String(initial);
  } else if (schema.type === 'boolean') {
    input = h('select', { id }, isRequired ? null : h('option', { value: '' }, '(not sent)'), h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
  } else if (schema.type === 'integer' || schema.type === 'number') {
    input = h('input', { id, type: 'number', step: schema.type === 'integer' ? '1' : String(schema.multipleOf ?? 'any'), inputmode: schema.type === 'integer' ? 'numeric' : 'decimal', 'aria-describedby': hintId, autocomplete: 'off' });
    if (initial !== undefined) input.value = String(initial);
  } else if (schema.format === 'date-time') {
    input = h('input', { id, type: 'datetime-local', step: '1', 'aria-describedby': hintId });
  } else if (schema.type === 'array' || schema.type === 'object') {
    input = h('textarea', { id, rows: '3', spellcheck: 'false', 'aria-describedby': hintId, placeholder: schema.type === 'array' ? '[ ]' : '{ }' });
  } else {
    input = h('input', { id, type: 'text', maxlength: schema.maxLength !== undefined ? String(schema.maxLength) : undefined, 'aria-describedby': hintId, autocomplete: 'off', spellcheck: 'false' });
    if (initial !== undefined) input.value = String(initial);
  }
  if (isRequired) input.setAttribute('aria-required', 'true');
  input.dataset.path = path;

  readers.push({
    path,
    input,
    read() {
      const raw = input.value.trim();
      if (raw === '') return isRequired ? { ok: false, path, message: 'is required', input } : { ok: true, value: undefined };
      if (schema.type === 'integer' || schema.type === 'number') {
        const n = Number(raw);
        if (!Number.isFinite(n) || (schema.type === 'integer' && !Number.isInteger(n))) return { ok: false, path, message: `must be ${schema.type === 'integer' ? 'a whole number' : 'a number'}`, input };
        return { ok: true, value: n };
      }
      if (schema.type === 'boolean') return { ok: true, value: raw === 'true' };
      if (schema.format === 'date-time') {
        const t = Date.parse(raw);
        if (!Number.isFinite(t)) return { ok: false, path, message: 'is not a date and time', input };
        return { ok: true, value: new Date(t).toISOString() };
      }
      if (schema.type === 'array' || schema.type === 'object') {
        try {
          return { ok: true, value: JSON.parse(raw) };
        } catch (err) {
          return { ok: false, path, message: `is not valid JSON (${err.message})`, input };
        }
      }
      return { ok: true, value: input.value };
    },
  });

  return h('div', { class: 'schema-field' },
    h('label', { for: id }, name, h('span', { class: 'req' }, isRequired ? ' (required)' : ' (optional)')),
    input,
    hintText ? h('span', { id: hintId, class: 'hint' }, hintText) : null,
  );
}
