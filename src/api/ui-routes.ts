// The flashCharge bench UI: static files from ui/ plus the Socket.IO browser client and the uPlot chart library
// from the installed packages. The files hold no station data (that arrives over Socket.IO with a JWT), so they
// are public, and so is the rider's default price (ui-config.json).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Router } from 'express';
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

/**
 * UI_PRICE_PER_KWH (a number ≥ 0) and UI_CURRENCY (three letters), read once at start; a bad value stops the
 * gateway with a line naming it, like the other variables (api/ may not import config-env, hence read here).
 */
export function riderDefaultsFromEnv(env: Readonly<Record<string, string | undefined>>): RiderDefaults {
  const bad = (variable: string, want: string, got: string): never => {
    throw new GatewayError('GW_ERR_CONFIG', `${variable}=${JSON.stringify(got)} is invalid: expected ${want}`, { variable });
  };
  const priceRaw = env.UI_PRICE_PER_KWH?.trim() ?? '';
  const pricePerKwh = priceRaw === '' ? DEFAULT_RIDER.pricePerKwh : Number(priceRaw);
  if (!Number.isFinite(pricePerKwh) || pricePerKwh < 0) bad('UI_PRICE_PER_KWH', 'a price per kWh ≥ 0, such as 15 or 0.32', priceRaw);
  const currency = (env.UI_CURRENCY?.trim() || DEFAULT_RIDER.currency).toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) bad('UI_CURRENCY', 'a three-letter ISO 4217 code such as INR or EUR', currency);
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
  // One public config for the page: whether this caller may take a dev token, and the rider's default price.
  const rider = opts.rider ?? DEFAULT_RIDER;
  router.get(UI_CONFIG_PATH, (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ devToken: opts.devTokenAvailable?.(req) ?? false, rider });
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
  // no-cache: a bench machine picks up a new UI after a gateway upgrade without a hard reload.
  router.use(express.static(opts.dir ?? UI_DIR, { index: 'index.html', fallthrough: true, cacheControl: true, maxAge: 0, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }));
  return router;
}
