// Banners above the workspace: the token-expiry prompt (with a field for the new token) and passing notices.
import { byId, h } from './dom.js';
import { clock, duration } from './format.js';
import { cleanToken } from './token-store.js';
import { localTokenProblem } from './token-check.js';

const NOTICE_MS = 8000;

export function createNotices({ onNewToken, devAvailable }) {
  const el = {
    area: byId('notices'),
    expiring: byId('token-expiring'),
    expiringText: byId('token-expiring-text'),
    renewForm: byId('renew-form'),
    renewInput: byId('renew-input'),
    renewError: byId('renew-error'),
    renewDev: byId('renew-dev'),
  };
  let expiresAt;
  let countdown;
  const stickies = new Map();

  const updateCountdown = () => {
    if (expiresAt === undefined) return;
    const left = expiresAt - Date.now();
    el.expiringText.textContent =
      left > 0
        ? `Your token expires in ${duration(left)} (at ${clock(new Date(expiresAt).toISOString())}). Paste a new one to stay connected:`
        : 'Your token has expired. Paste a new one:';
  };

  el.renewForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = cleanToken(el.renewInput.value);
    const problem = token === '' ? 'Paste the new token first.' : localTokenProblem(token);
    if (problem) {
      el.renewError.textContent = problem;
      el.renewError.hidden = false;
      return;
    }
    el.renewInput.value = '';
    onNewToken(token);
  });
  el.renewDev.addEventListener('click', () => onNewToken(undefined));

  return {
    tokenExpiring({ expiresAt: at, inMs }) {
      expiresAt = Number.isFinite(Date.parse(at)) ? Date.parse(at) : Date.now() + inMs;
      el.expiring.hidden = false;
      el.renewError.hidden = true;
      el.renewDev.hidden = !devAvailable();
      updateCountdown();
      clearInterval(countdown);
      countdown = setInterval(updateCountdown, 1000);
    },
    tokenRenewed() {
      expiresAt = undefined;
      clearInterval(countdown);
      el.expiring.hidden = true;
    },
    /** A notice that stays until the user dismisses it (missed events must not pass unseen). */
    /** key: a later sticky notice with the same key replaces the text of one still shown. */
    sticky(text, kind = 'warning', key = undefined, onDismiss = undefined) {
      const open = key ? stickies.get(key) : undefined;
      if (open?.isConnected) {
        open.querySelector('p').textContent = text;
        return;
      }
      const dismiss = h('button', { type: 'button', class: 'secondary dismiss' }, 'Dismiss');
      const item = h('div', { class: `notice ${kind} sticky`, role: 'status' }, h('p', {}, text), dismiss);
      dismiss.addEventListener('click', () => {
        item.remove();
        onDismiss?.();
      });
      if (key) stickies.set(key, item);
      el.area.append(item);
    },
    notice(text, kind = 'info') {
      const item = h('p', { class: `notice ${kind}`, role: kind === 'alert' ? 'alert' : 'status' }, text);
      el.area.append(item);
      setTimeout(() => item.remove(), NOTICE_MS);
    },
  };
}
