// The flashCharge bench UI: static files from ui/ plus the Socket.IO browser client and the uPlot chart library
// from the installed packages. The files hold no station data (that arrives over Socket.IO with a JWT), so they
// are public, and so is the rider's default price (ui-config.json).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import { envNumber, envString, type Env } from '../config-env.js';
import { GatewayError } from '../errors.js';

/** ui/ at the repository root, next to src/. */
export const UI_DIR = fileURLToPath(new URL('../../ui/', import.meta.url));

/** Where the page loads the Socket.IO client from (relative to the UI mount). */
export const SOCKET_IO_CLIENT_PATH = '/vendor/socket.io.esm.min.js';

// The same file Socket.IO's own serveClient would answer with; the push server runs with serveClient off.
function socketIoClientDir(): string {
  const entry = createRequire(import.meta.url).resolve('socket.io');
  return path.join(path.dirname(entry), '..', 'client-dist');
}

// uPlot's ES module and stylesheet, from the installed package (no CDN: the bench machine may have no internet).
function uplotDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve('uplot'));
}
const UPLOT_FILES: ReadonlyMap<string, string> = new Map([
  ['uPlot.esm.js', 'uPlot.esm.js'],
  ['uPlot.min.css', 'uPlot.min.css'],
]);

/** What the rider screen starts with before the rider sets their own price (kept in the browser). */
export interface RiderDefaults {
  /** Price per kWh in `currency`; 0 hides the cost until the rider sets a price. */
  readonly pricePerKwh: number;
  /** ISO 4217 code, shown beside the cost. */
  readonly currency: string;
}

/** flashCharge's backend charged 15 INR per kWh. */
export const DEFAULT_RIDER: RiderDefaults = { pricePerKwh: 15, currency: 'INR' };

/** UI_PRICE_PER_KWH (number ≥ 0) and UI_CURRENCY (three letters), read once at start. */
export function riderDefaultsFromEnv(env: Env): RiderDefaults {
  const pricePerKwh = envNumber(env, 'UI_PRICE_PER_KWH', DEFAULT_RIDER.pricePerKwh, 0, 1_000_000);
  const currency = (envString(env, 'UI_CURRENCY') ?? DEFAULT_RIDER.currency).toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) {
    throw new GatewayError('GW_ERR_CONFIG', `UI_CURRENCY=${JSON.stringify(currency)} is invalid: expected a three-letter ISO 4217 code such as INR or EUR`, { variable: 'UI_CURRENCY' });
  }
  return { pricePerKwh, currency };
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
  /** The rider's default price, served at ui-config.json. */
  readonly rider?: RiderDefaults;
}

export function uiRouter(opts: UiRouterOptions = {}): Router {
  const router = express.Router();
  router.use((_req, res, next) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  const clientDir = socketIoClientDir();
  for (const file of ['socket.io.esm.min.js', 'socket.io.esm.min.js.map']) {
    router.get(`/vendor/${file}`, (_req, res) => {
      res.sendFile(file, { root: clientDir, headers: { 'Cache-Control': 'public, max-age=3600' } });
    });
  }
  const libDir = uplotDir();
  for (const [name, file] of UPLOT_FILES) {
    router.get(`/vendor/${name}`, (_req, res) => {
      res.sendFile(file, { root: libDir, headers: { 'Cache-Control': 'public, max-age=3600' } });
    });
  }
  const riderConfig = JSON.stringify({ rider: opts.rider ?? DEFAULT_RIDER });
  router.get('/ui-config.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('application/json').send(riderConfig);
  });
  // no-cache: a bench machine picks up a new UI after a gateway upgrade without a hard reload.
  router.use(express.static(opts.dir ?? UI_DIR, { index: 'index.html', fallthrough: true, cacheControl: true, maxAge: 0, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  return router;
}
