// Polls until a condition holds: what a test waits for arrives after a turn of the event loop or a socket's trip.

/** Resolves with the first value `fn` gives that is not undefined; rejects after `ms`. */
export async function until<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what} not met in time`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
