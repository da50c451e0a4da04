// The rider screen's default price (UI_PRICE_PER_KWH, UI_CURRENCY): read once at start, a bad value refused with
// a message naming the variable.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RIDER, riderDefaultsFromEnv } from '../../src/api/ui-routes.js';

describe('rider defaults from the environment', () => {
  it('defaults to flashCharge’s 15 INR per kWh', () => {
    expect(riderDefaultsFromEnv({})).toEqual(DEFAULT_RIDER);
    expect(DEFAULT_RIDER).toEqual({ pricePerKwh: 15, currency: 'INR' });
  });

  it('takes a price and a currency (upper-cased)', () => {
    expect(riderDefaultsFromEnv({ UI_PRICE_PER_KWH: '0.32', UI_CURRENCY: 'eur' })).toEqual({ pricePerKwh: 0.32, currency: 'EUR' });
    expect(riderDefaultsFromEnv({ UI_PRICE_PER_KWH: '0' })).toEqual({ pricePerKwh: 0, currency: 'INR' });
  });

  it('refuses a price that is not a number ≥ 0 and a currency that is not three letters', () => {
    expect(() => riderDefaultsFromEnv({ UI_PRICE_PER_KWH: 'ten' })).toThrow(/UI_PRICE_PER_KWH="ten" is invalid/);
    expect(() => riderDefaultsFromEnv({ UI_PRICE_PER_KWH: '-1' })).toThrow(/UI_PRICE_PER_KWH/);
    expect(() => riderDefaultsFromEnv({ UI_CURRENCY: '₹' })).toThrow(/UI_CURRENCY="₹" is invalid: expected a three-letter ISO 4217 code/);
  });
});
