// @ts-check
// The rider's own choices, kept in this browser (localStorage): the target SOC and the price per kWh. The price
// starts from the gateway's default (ui-config.json: UI_PRICE_PER_KWH, UI_CURRENCY) until the rider sets one.

const TARGET_KEY = 'chargebridge.rider.targetSoc';
const PRICE_KEY = 'chargebridge.rider.pricePerKwh';
export const TARGETS = [80, 90, 100];
export const DEFAULT_TARGET = 80;

/** @param {string} key */
function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage blocked (private mode, policy): the defaults still work
  }
}

/** @param {string} key @param {string} value */
function write(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    /* not kept; the choice holds for this page */
  }
}

export function createRiderSettings() {
  const storedTarget = Number(read(TARGET_KEY));
  let target = TARGETS.includes(storedTarget) ? storedTarget : DEFAULT_TARGET;
  const storedPrice = read(PRICE_KEY);
  /** @type {number | undefined} the rider's own price, if set */
  let ownPrice = storedPrice !== null && storedPrice !== '' && Number.isFinite(Number(storedPrice)) && Number(storedPrice) >= 0 ? Number(storedPrice) : undefined;
  let defaults = { pricePerKwh: 0, currency: 'INR' };

  return {
    /** Reads the gateway's defaults; a failure keeps the built-in ones (the page works without them). */
    async load() {
      try {
        const res = await fetch('ui-config.json');
        if (res.ok) {
          const body = await res.json();
          const r = body?.rider;
          if (r && typeof r.pricePerKwh === 'number' && typeof r.currency === 'string') defaults = { pricePerKwh: r.pricePerKwh, currency: r.currency };
        }
      } catch {
        /* offline: built-in defaults */
      }
    },
    get target() {
      return target;
    },
    set target(value) {
      if (!TARGETS.includes(value)) return;
      target = value;
      write(TARGET_KEY, String(value));
    },
    get price() {
      return ownPrice ?? defaults.pricePerKwh;
    },
    /** @param {number | undefined} value undefined goes back to the gateway's default */
    setPrice(value) {
      ownPrice = value;
      write(PRICE_KEY, value === undefined ? '' : String(value));
    },
    /** The price the rider set, if any (the input shows it; otherwise the default is its placeholder). */
    get ownPrice() {
      return ownPrice;
    },
    get currency() {
      return defaults.currency;
    },
  };
}
