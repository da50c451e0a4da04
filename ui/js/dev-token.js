// The gateway's development token endpoint (DEV_TOKEN_ENDPOINT=true, loopback callers only). The probe sends a
// request the endpoint must refuse as invalid, so looking for it never issues a token.
const URL_PATH = 'api/push/dev-token';

export async function devTokenAvailable() {
  try {
    const res = await fetch(URL_PATH, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"role":"probe"}' });
    if (res.status !== 400) return false;
    const body = await res.json();
    return body?.error?.code === 'invalid_params';
  } catch {
    return false;
  }
}

export async function fetchDevToken(role = 'operator') {
  const res = await fetch(URL_PATH, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ role, ttl: '8h' }) });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || typeof body.token !== 'string') throw new Error(body?.error?.message ?? `dev token endpoint answered HTTP ${res.status}`);
  return body.token;
}
