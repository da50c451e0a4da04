// The sign-in form: paste a JWT (checked locally for shape and expiry before the gateway sees it), or take a
// development token when the gateway offers its loopback dev endpoint.
import { byId } from './dom.js';
import { refusalMessage } from './auth-messages.js';
import { devTokenAvailable, fetchDevToken } from './dev-token.js';
import { localTokenProblem } from './token-check.js';
import { cleanToken } from './token-store.js';

export function createSignIn({ onToken }) {
  const el = {
    section: byId('sign-in'),
    form: byId('sign-in-form'),
    input: byId('token-input'),
    error: byId('sign-in-error'),
    dev: byId('dev-sign-in'),
    devHint: byId('dev-hint'),
  };

  const fail = (message) => {
    el.error.textContent = message;
    el.error.hidden = !message;
  };

  el.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = cleanToken(el.input.value);
    if (token === '') return fail(refusalMessage('token_missing'));
    const problem = localTokenProblem(token);
    if (problem) return fail(problem);
    el.input.value = '';
    onToken(token);
  });

  el.dev.addEventListener('click', async () => {
    el.dev.disabled = true;
    try {
      onToken(await fetchDevToken('operator'));
    } catch (err) {
      fail(`Dev sign-in failed: ${err.message}`);
    } finally {
      el.dev.disabled = false;
    }
  });

  return {
    async show(message) {
      el.section.hidden = false;
      fail(message ?? '');
      el.input.focus();
      const dev = await devTokenAvailable();
      el.dev.hidden = !dev;
      el.devHint.hidden = !dev;
    },
    hide() {
      el.section.hidden = true;
      fail('');
    },
  };
}
