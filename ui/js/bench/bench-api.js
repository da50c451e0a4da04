// @ts-check
// REST calls of the bench screens (operator token in the Authorization header, never in a URL): JSON in, the
// gateway's documented error shape out as one result, and downloads saved from a Blob.
import { h } from '../dom.js';

/**
 * @typedef {{ ok: boolean, status: number, body: any, message: string, field?: string }} ApiResult
 * `message` is the gateway's error message (or what went wrong on the way); `field` names the offending field.
 */

/**
 * @param {() => string | null | undefined} getToken
 * @param {'GET' | 'POST' | 'PUT' | 'DELETE'} method
 * @param {string} path relative to the page, e.g. `api/test-cs`
 * @param {unknown} [body]
 * @returns {Promise<ApiResult>}
 */
export async function api(getToken, method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Authorization: `Bearer ${getToken() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    let parsed;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const err = parsed?.error;
    return {
      ok: res.ok,
      status: res.status,
      body: parsed,
      message: res.ok ? '' : String(err?.message ?? `HTTP ${res.status}`),
      ...(typeof err?.field === 'string' ? { field: err.field } : {}),
    };
  } catch (e) {
    return { ok: false, status: 0, body: undefined, message: `the gateway could not be reached (${e instanceof Error ? e.message : String(e)})` };
  }
}

/**
 * Fetches `path` with the token in a header and saves it as `filename`.
 * @param {() => string | null | undefined} getToken @param {string} path @param {string} filename
 * @returns {Promise<number>} bytes saved
 */
export async function download(getToken, path, filename) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${getToken() ?? ''}` } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob.size;
}

/**
 * Shows an outcome in a `.call-result` status line.
 * @param {HTMLElement} el @param {'good' | 'warning' | 'alert' | 'pending'} kind @param {string} text
 */
export function say(el, kind, text) {
  el.className = `call-result ${kind}`;
  el.textContent = text;
}

/** "in 3 min 10 s" / "2 s ago" from an ISO time. @param {string} iso @param {number} [now] */
export function relative(iso, now = Date.now()) {
  const ms = Date.parse(iso) - now;
  if (!Number.isFinite(ms)) return '';
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/**
 * Runs `read` now and every `ms` while on and the tab is visible: what a screen shows that no push event carries
 * (fault rule counters, a simulated station's connectors).
 * @param {() => unknown} read @param {number} ms
 */
export function whileShown(read, ms) {
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  let on = false;
  return {
    get on() {
      return on;
    },
    /** @param {boolean} shown */
    set(shown) {
      on = shown;
      clearInterval(timer);
      timer = undefined;
      if (!shown) return;
      read();
      timer = setInterval(() => {
        if (document.visibilityState === 'visible') read();
      }, ms);
    },
  };
}
