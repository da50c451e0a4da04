// The gateway's development token endpoint (DEV_TOKEN_ENDPOINT=true, loopback callers only). The page asks the
// UI's own config (always 200) whether it may use it, so a normal load logs no failed request.
const URL_PATH = 'api/push/dev-token';

export async function devTokenAvailable() {
  try {
    const res = await fetch('ui-config.json', { cache: 'no-store' });
    if (!res.ok) return false;
    const body = await res.json();
    return body?.devToken === true;
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
