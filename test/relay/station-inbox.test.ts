// A station's inbox (src/relay/station-inbox.ts) with the real decoder thread: order kept behind a large frame, and a
// station that sends faster than the thread decodes is bounded by INBOX_MAX_BYTES, with nothing lost.
import { afterEach, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/relay/frame-decoder.js';
import { INBOX_MAX_BYTES, StationInbox, type Pausable } from '../../src/relay/station-inbox.js';

const decoders: FrameDecoder[] = [];
afterEach(async () => {
  for (const d of decoders.splice(0)) await d.close();
});

function inbox(refuse: (bytes: Buffer) => boolean = () => false, link?: Pausable) {
  const decoder = new FrameDecoder();
  decoders.push(decoder);
  const handled: string[] = [];
  const box = new StationInbox(decoder, {
    text: (t) => handled.push(`text ${JSON.parse(t)[1]}`),
    refused: (d) => handled.push(`refused ${d}`),
    refusedByHead: (b) => refuse(b) && handled.push(`head ${b.length}`) > 0,
    head: () => undefined,
    decoded: (_b, d) => handled.push(`${d.offThread ? 'thread' : 'here'} ${d.parsed.ok && d.parsed.frame.id}`),
  }, link);
  return { decoder, box, handled };
}

const large = (id: string, size = 100_000): Buffer => Buffer.from(JSON.stringify([2, id, 'DataTransfer', { vendorId: 'v', data: 'x'.repeat(size) }]));
const small = (id: string): string => JSON.stringify([2, id, 'Heartbeat', {}]);

describe('a station inbox', () => {
  it('drains a backlog behind a large frame a slice at a time, in order, with other work between the slices', async () => {
    const decoder = new FrameDecoder();
    decoders.push(decoder);
    const handled: string[] = [];
    const spin = (ms: number): void => {
      for (const end = performance.now() + ms; performance.now() < end; );
    };
    // Each small frame costs 50 µs to handle: the backlog is 20 ms of work.
    const box = new StationInbox(decoder, {
      text: (t) => {
        spin(0.05);
        handled.push(String(JSON.parse(t)[1]));
      },
      refused: () => undefined,
      refusedByHead: () => false,
      head: () => undefined,
      decoded: (_b, d) => handled.push(String(d.parsed.ok && d.parsed.frame.id)),
    });
    box.bytes(large('big'));
    const n = 400;
    for (let i = 0; i < n; i++) box.text(small(`s${i}`));
    // How far the drain has got at each turn of the event loop, until it is done.
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        seen.push(handled.length);
        if (handled.length === n + 1) resolve();
        else setImmediate(tick);
      };
      setImmediate(tick);
    });
    expect(handled).toEqual(['big', ...Array.from({ length: n }, (_, i) => `s${i}`)]);
    // Drained in one turn, no turn would see it part done.
    expect(new Set(seen.filter((k) => k > 0 && k < n + 1)).size).toBeGreaterThanOrEqual(5);
  });

  it('handles text at once when nothing waits, and everything behind a large frame after it, in order', async () => {
    const { box, handled } = inbox();
    box.text(small('a'));
    expect(handled).toEqual(['text a']);
    box.bytes(large('b'));
    box.text(small('c'));
    box.refused('binary frame');
    box.bytes(large('d'));
    expect(box.idle).toBe(false);
    await expect.poll(() => handled.length).toBe(5);
    expect(handled).toEqual(['text a', 'thread b', 'text c', 'refused binary frame', 'thread d']);
    expect(box.idle).toBe(true);
  });

  it('stops reading a link that can pause once more than INBOX_MAX_BYTES wait, and reads it again once drained', async () => {
    const calls: string[] = [];
    const { decoder, box, handled } = inbox(undefined, { pause: () => calls.push('pause'), resume: () => calls.push('resume') });
    const n = Math.ceil(INBOX_MAX_BYTES / 100_000) + 3;
    for (let i = 0; i < n; i++) box.bytes(large(`p${i}`));
    // Still within twice the budget: nothing decoded here, the link asked to stop.
    expect(calls).toEqual(['pause']);
    expect(handled).toEqual([]);
    await expect.poll(() => handled.length, { timeout: 10_000 }).toBe(n);
    expect(handled.map((h) => h.split(' ')[1])).toEqual(Array.from({ length: n }, (_, i) => `p${i}`));
    expect(calls).toEqual(['pause', 'resume']);
    expect(decoder.counters).toMatchObject({ inboxPauses: 1, inboxFlushes: 0 });
    // Past twice the budget (frames the link had read before it stopped), what waits is decoded in place.
    for (let i = 0; i < 2 * n; i++) box.bytes(large(`q${i}`));
    expect(decoder.counters.inboxFlushes).toBe(1);
    await expect.poll(() => handled.length, { timeout: 10_000 }).toBe(3 * n);
    expect(handled.slice(n).map((h) => h.split(' ')[1])).toEqual(Array.from({ length: 2 * n }, (_, i) => `q${i}`));
  });

  it('decodes in place once more than INBOX_MAX_BYTES wait and the link cannot pause, losing and reordering nothing', async () => {
    const { decoder, box, handled } = inbox();
    const n = Math.ceil(INBOX_MAX_BYTES / 100_000) + 3;
    for (let i = 0; i < n; i++) box.bytes(large(`f${i}`));
    // Synchronously, at the frame that crossed the budget: all of it handled here and now.
    expect(decoder.counters.inboxFlushes).toBe(1);
    expect(handled.length).toBeGreaterThanOrEqual(Math.ceil(INBOX_MAX_BYTES / 100_000));
    await expect.poll(() => handled.length).toBe(n);
    expect(handled.map((h) => h.split(' ')[1])).toEqual(Array.from({ length: n }, (_, i) => `f${i}`));
    expect(handled[0]).toBe('here f0');
    await expect.poll(() => decoder.stats.inFlight).toBe(0);
    expect(handled).toHaveLength(n);
  });

  it('handles a frame refused from its head without decoding it, and nothing once dropped', async () => {
    const x = large('x', 70_000);
    const { decoder, box, handled } = inbox((b) => b === x);
    box.bytes(x);
    expect(handled).toEqual([`head ${x.length}`]);
    box.bytes(large('y'));
    box.text(small('z'));
    box.drop();
    box.text(small('after'));
    await expect.poll(() => decoder.stats.inFlight).toBe(0);
    expect(handled).toEqual([`head ${x.length}`]);
  });
});
