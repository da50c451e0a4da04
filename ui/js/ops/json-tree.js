// A collapsible JSON tree: objects and arrays are <details> (keyboard and screen-reader friendly without
// script), leaves are text. Values only ever become text nodes.
import { h } from '../dom.js';

const OPEN_DEPTH = 2;
const MAX_NODES = 2000;

function leaf(value) {
  const kind = value === null ? 'null' : typeof value;
  return h('span', { class: `jt-${kind}` }, kind === 'string' ? JSON.stringify(value) : String(value));
}

/** A tree for `value`; `label` names the root (e.g. "payload"). */
export function jsonTree(value, label = 'frame') {
  let budget = MAX_NODES;
  const node = (key, v, depth) => {
    if (--budget < 0) return h('li', {}, h('span', { class: 'hint' }, '… (too large to show; see the raw frame)'));
    const name = key === undefined ? null : h('span', { class: 'jt-key' }, `${key}: `);
    if (v === null || typeof v !== 'object') return h('li', {}, name, leaf(v));
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    const size = Array.isArray(v) ? `[${v.length}]` : `{${entries.length}}`;
    const details = h('details', { class: 'jt-branch' }, h('summary', {}, name, h('span', { class: 'jt-size' }, size)), h('ul', { class: 'jt' }, entries.map(([k, x]) => node(k, x, depth + 1))));
    if (depth < OPEN_DEPTH) details.open = true;
    return h('li', {}, details);
  };
  return h('ul', { class: 'jt jt-root', 'aria-label': label }, node(undefined, value, 0));
}
