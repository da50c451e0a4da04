// The decoder's transfer buffers (src/relay/transfer-pool.ts): kept within their budget, found by size, and a frame
// carried in a larger buffer than itself is decoded to its own length only.
import { describe, expect, it } from 'vitest';
import { FrameDecoder, type Decoded } from '../../src/relay/frame-decoder.js';
import { TransferPool } from '../../src/relay/transfer-pool.js';

describe('the transfer pool', () => {
  it('gives the smallest kept buffer that fits, else a new one of a power-of-two size, and keeps no more than its budget', () => {
    const pool = new TransferPool(3 * 1024 * 1024);
    const a = pool.take(100_000);
    expect(a.byteLength).toBe(128 * 1024);
    const b = pool.take(600_000);
    expect(b.byteLength).toBe(1024 * 1024);
    const c = pool.take(1_500_000);
    expect(c.byteLength).toBe(2 * 1024 * 1024);
    pool.give(b);
    pool.give(a);
    pool.give(c); // over the budget with a and b kept: not kept
    expect(pool.bytes).toBe(1024 * 1024 + 128 * 1024);
    expect(pool.take(90_000)).toBe(a);
    expect(pool.take(90_000)).toBe(b);
    expect(pool.bytes).toBe(0);
    pool.give(new ArrayBuffer(0)); // a detached buffer has no bytes: nothing to keep
    expect(pool.bytes).toBe(0);
  });

  it('lets the decoder carry a small frame in a buffer a larger one gave back, decoded to its own length', async () => {
    const d = new FrameDecoder();
    try {
      const decode = (bytes: Buffer): Promise<Decoded> => new Promise((resolve) => d.decode(bytes, resolve));
      const frame = (data: string): Buffer => Buffer.from(JSON.stringify([2, 'id', 'DataTransfer', { vendorId: 'v', data }]));
      const large = frame('L'.repeat(900_000));
      const small = frame('s'.repeat(70_000));
      expect((await decode(large)).text).toBe(large.toString());
      const got = await decode(small);
      expect(got.offThread).toBe(true);
      expect(got.text).toBe(small.toString());
      expect(got.parsed.ok).toBe(true);
      expect(d.stats).toMatchObject({ inFlight: 0, inFlightBytes: 0 });
    } finally {
      await d.close();
    }
  });
});
