// Debian's Chromium driven by playwright-core, with a fresh profile per launch and no background traffic.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with apt-get install -y chromium (.ci/run does)`);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'cb-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Collects a page's uncaught errors and console errors into `errors`. The dev-token probe is answered 400 on purpose
 * (it must not issue a token) and Chromium logs every 4xx, so that one line is not an error of the page.
 */
export function collectPageErrors(page: Page, errors: string[]): void {
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !(msg.location().url.endsWith('/api/push/dev-token') && msg.text().includes('400'))) {
      errors.push(`${msg.text()} (${msg.location().url})`);
    }
  });
}

/** Counts Socket.IO WebSocket upgrades on the gateway's server: one per page means it was never cut off. */
export function countSocketUpgrades(server: http.Server): () => number {
  let upgrades = 0;
  server.on('upgrade', (req: http.IncomingMessage) => {
    if (req.url?.startsWith('/socket.io/')) upgrades++;
  });
  return () => upgrades;
}
