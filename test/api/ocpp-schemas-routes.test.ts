// GET /api/ocpp/schemas (operators only) and the UI's ui-config.json (always 200: the sign-in page's dev-token
// check must not log a failed request) on a real gateway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.js';

let gw: TestGateway;
let plain: TestGateway;

beforeAll(async () => {
  gw = await startGateway({ JWT_SECRET: 'schemas-test-secret-0123456789-abcdefgh', DEV_TOKEN_ENDPOINT: 'true' });
  plain = await startGateway({ JWT_SECRET: 'schemas-test-secret-0123456789-abcdefgh' });
});

afterAll(async () => {
  await gw?.stop();
  await plain?.stop();
});

describe('GET /api/ocpp/schemas', () => {
  it('gives operators the request schema of each of the 19 central-system actions', async () => {
    const body = await gw.getJson<{ version: string; actions: { action: string; schema: { $id: string; properties: Record<string, unknown> } }[] }>('/api/ocpp/schemas');
    expect(body.version).toBe('ocpp1.6');
    expect(body.actions.map((a) => a.action)).toContain('TriggerMessage');
    expect(body.actions).toHaveLength(19);
    expect(body.actions.find((a) => a.action === 'TriggerMessage')?.schema.$id).toBe('urn:TriggerMessage.req');
    expect(body.actions.some((a) => a.action === 'BootNotification')).toBe(false);
  });

  it('refuses a request without a token (401) and a viewer (403)', async () => {
    expect((await fetch(`${gw.httpUrl}/api/ocpp/schemas`)).status).toBe(401);
    expect((await fetch(`${gw.httpUrl}/api/ocpp/schemas`, { headers: gw.authHeader('viewer', ['CP1']) })).status).toBe(403);
  });
});

describe('GET /ui-config.json', () => {
  it('says whether this caller may take a dev token, with 200 either way', async () => {
    const on = await fetch(`${gw.httpUrl}/ui-config.json`);
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ devToken: true });
    const off = await fetch(`${plain.httpUrl}/ui-config.json`);
    expect(off.status).toBe(200);
    expect(await off.json()).toMatchObject({ devToken: false });
  });
});
