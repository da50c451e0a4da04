// The flashCharge bench UI: static files from ui/ plus the Socket.IO browser client from the installed
// socket.io package. The files hold no station data (that arrives over Socket.IO with a JWT), so they are public.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Router } from 'express';

/** ui/ at the repository root, next to src/. */
export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

/** Where the page loads the Socket.IO client from (relative to the UI mount). */
export const SOCKET_IO_CLIENT_PATH = '/vendor/socket.io.esm.min.js';

// The same file Socket.IO's own serveClient would answer with; the push server runs with serveClient off.
function socketIoClientDir(): string {
  const entry = createRequire(import.meta.url).resolve('socket.io');
  return path.join(path.dirname(entry), '..', 'client-dist');
}

// 'self' covers same-origin ws: in CSP 3 browsers; nothing else may run or load.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface UiRouterOptions {
  /** Serve another directory (tests, a customised UI). */
  readonly dir?: string;
  /** Whether this caller may take a dev token (DEV_TOKEN_ENDPOINT and a loopback caller); default never. */
  readonly devTokenAvailable?: (req: Request) => boolean;
}

/** What the sign-in page needs before a token exists, always answered 200 so a normal load logs no error. */
export const UI_CONFIG_PATH = '/ui-config.json';

export function uiRouter(opts: UiRouterOptions = {}): Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  router.get(UI_CONFIG_PATH, (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ devToken: opts.devTokenAvailable?.(req) ?? false });
  });
  const clientDir = socketIoClientDir();
  for (const file of ['socket.io.esm.min.js', 'socket.io.esm.min.js.map']) {
    router.get(`/vendor/${file}`, (_req, res) => {
      res.sendFile(file, { root: clientDir, headers: { 'Cache-Control': 'public, max-age=3600' } });
    });
  }
  // no-cache: a bench machine picks up a new UI after a gateway upgrade without a hard reload.
  router.use(express.static(opts.dir ?? UI_DIR, { index: 'index.html', fallthrough: true, cacheControl: true, maxAge: 0, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  return router;
}
