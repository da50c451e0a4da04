// One owner per chargeBoxId across the cluster. A node that takes a station writes "nodeId connection" under the
// station's key and learns who held it; if that was another node, it asks that node to close its link and
// upstream, as the relay does for a second connection on one node. The relay never waits for any of this.
// The hand-over keeps the station's events in order: a node lets go of its claim only once the events of a closed
// connection (its close included) are in the shared stream, and answers a release only then; the node taking the
// station holds its events for it back until that answer (or until the claim shows nobody else held it).
import type { Logger } from 'pino';
import type { Bus } from '../events/bus.js';
import { CloseCode } from '../links/link.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis.js';
import type { ClusterRpc } from './rpc.js';

const RELEASE_IF_MINE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
/** After Redis comes back: claim again what this node holds, unless a newer connection elsewhere claimed it. */
const CLAIM_IF_FREE = `
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1]) return 1 end
return 0`;

export interface StationCloser {
  /** Closes the station's link and upstream if this node holds it; false if it does not. */
  disconnect(chargeBoxId: string, code: number, reason: string): boolean;
}

/** This node's queue of events on their way to the shared stream (event-stream.ts, EventOutbox). */
export interface StationEventQueue {
  hold(chargeBoxId: string): void;
  unhold(chargeBoxId: string): void;
  flushed(chargeBoxId: string, timeoutMs: number): Promise<void>;
}

/** How long a closed connection's events may take to reach the stream before the claim is let go anyway. */
const FLUSH_MS = 2000;
/** How long a release waits for that (answered before the asking node's request times out). */
const RELEASE_WAIT_MS = 2500;
const RELEASE_TIMEOUT_MS = 3000;
const UNKNOWN_NODE_TIMEOUT_MS = 1000;
/** The longest a close waits for the message log to announce it. */
const LOGGED_CLOSE_MS = 10_000;

/** A connection of this node that ended: its claim is let go once its events are in the stream. */
interface Closing {
  readonly claim: string;
  readonly done: Promise<void>;
  readonly resolve: () => void;
  /** Set once the link's close was seen (the release of a claim can come first). */
  chargeBoxId?: string;
}

export class StationOwnership {
  /** Stations this node holds, with the claim it wrote. */
  readonly #mine = new Map<string, string>();
  /** Ended connections by claim, until their events are in the stream. */
  readonly #closings = new Map<string, Closing>();
  /** Per station, its ended connections in the order they closed (the message log announces them in that order). */
  readonly #closeOrder = new Map<string, Closing[]>();
  #serial = 0;
  #offs: (() => void)[] = [];
  readonly counters = { claimed: 0, replacedElsewhere: 0, releasedHere: 0, claimErrors: 0 };

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly rpc: ClusterRpc,
    private readonly nodeId: () => string,
    private readonly relay: StationCloser,
    private readonly events: StationEventQueue,
    private readonly logger: Logger,
    /** Whether a node is still heard from: a claim left by a node that died holds nothing. */
    private readonly alive: (nodeId: string) => boolean = () => true,
  ) {}

  start(bus: Bus): void {
    this.rpc.handle('release', async (body) => this.#release(body as { chargeBoxId: string; claim: string; by: string }));
    this.#offs = [
      bus.on('link', (change) => {
        if (change.kind === 'connected') this.#claim(change.chargeBoxId);
        else if (change.kind === 'disconnected') this.#closed(change.chargeBoxId);
      }),
      // The close in order with the connection's frames: by now its last events are in the outbox (the event model
      // turns the same announcement into stationDisconnected; a microtask lets every listener run first).
      bus.on('loggedLink', (change) => {
        if (change.kind !== 'disconnected') return;
        const closing = this.#closeOrder.get(change.chargeBoxId)?.shift();
        if (this.#closeOrder.get(change.chargeBoxId)?.length === 0) this.#closeOrder.delete(change.chargeBoxId);
        if (closing) queueMicrotask(() => void this.#letGo(change.chargeBoxId, closing));
      }),
    ];
    this.redis.onUp(() => this.#reclaimAll());
  }

  stop(): void {
    for (const off of this.#offs) off();
    this.#offs = [];
  }

  get held(): number {
    return this.#mine.size;
  }

  /** The live node holding a station, per Redis (undefined: nobody, its node is gone, or Redis is away). */
  async ownerOf(chargeBoxId: string): Promise<string | undefined> {
    if (this.#mine.has(chargeBoxId)) return this.nodeId();
    if (!this.redis.up) return undefined;
    const v = await this.redis.client.get(this.keys.owner(chargeBoxId));
    const node = v === null ? undefined : nodeOf(v);
    return node !== undefined && this.alive(node) ? node : undefined;
  }

  /** The other live node holding the station; undefined when it is held here, by nobody, or Redis is away. */
  async elsewhere(chargeBoxId: string): Promise<string | undefined> {
    const node = await this.ownerOf(chargeBoxId).catch(() => undefined);
    return node === this.nodeId() ? undefined : node;
  }

  #claim(chargeBoxId: string): void {
    const claim = `${this.nodeId()} ${Date.now().toString(36)}.${(++this.#serial).toString(36)}`;
    this.#mine.set(chargeBoxId, claim);
    if (!this.redis.up) return; // claimed when Redis is back (#reclaimAll)
    // Until the claim shows who held the station, and that node has put its events in the stream.
    this.events.hold(chargeBoxId);
    let holding = true;
    const proceed = (): void => {
      if (holding) this.events.unhold(chargeBoxId);
      holding = false;
    };
    this.redis.client.set(this.keys.owner(chargeBoxId), claim, 'GET').then(
      (previous) => {
        this.counters.claimed++;
        if (previous === null || nodeOf(previous) === this.nodeId()) return proceed();
        this.counters.replacedElsewhere++;
        const node = nodeOf(previous);
        // A node not heard from lately is dead, or has only just started: it is asked all the same, but not waited
        // for as long.
        const timeout = this.alive(node) ? RELEASE_TIMEOUT_MS : UNKNOWN_NODE_TIMEOUT_MS;
        this.rpc.request(node, 'release', { chargeBoxId, claim: previous, by: this.nodeId() }, timeout).catch((err: unknown) => {
          this.logger.debug({ chargeBoxId, node, err: String(err) }, 'previous holder of the station did not answer');
        }).finally(proceed);
      },
      (err: unknown) => {
        this.counters.claimErrors++;
        proceed();
        this.logger.debug({ chargeBoxId, err: String(err) }, 'station claim not written; retried when Redis is back');
      },
    );
  }

  /** A link of this node closed: its claim stays until its events are in the stream (#letGo). */
  #closed(chargeBoxId: string): void {
    const claim = this.#mine.get(chargeBoxId);
    if (claim === undefined) return;
    this.#mine.delete(chargeBoxId);
    const closing = this.#closingOf(claim);
    closing.chargeBoxId = chargeBoxId;
    const order = this.#closeOrder.get(chargeBoxId);
    if (order) order.push(closing);
    else this.#closeOrder.set(chargeBoxId, [closing]);
    // The log announces every close; should one never come, the claim still goes.
    setTimeout(() => {
      const left = this.#closeOrder.get(chargeBoxId);
      const at = left?.indexOf(closing) ?? -1;
      if (at < 0) return;
      left!.splice(at, 1);
      if (left!.length === 0) this.#closeOrder.delete(chargeBoxId);
      void this.#letGo(chargeBoxId, closing);
    }, LOGGED_CLOSE_MS).unref();
  }

  #closingOf(claim: string): Closing {
    let closing = this.#closings.get(claim);
    if (!closing) {
      let resolve: () => void = () => undefined;
      const done = new Promise<void>((r) => (resolve = r));
      closing = { claim, done, resolve };
      this.#closings.set(claim, closing);
    }
    return closing;
  }

  async #letGo(chargeBoxId: string, closing: Closing): Promise<void> {
    await this.events.flushed(chargeBoxId, FLUSH_MS);
    if (this.redis.up) await this.redis.client.eval(RELEASE_IF_MINE, 1, this.keys.owner(chargeBoxId), closing.claim).catch(() => undefined);
    this.#closings.delete(closing.claim);
    closing.resolve();
  }

  /** Another node took the station: close it here, and answer once its events are in the stream. */
  async #release(req: { chargeBoxId: string; claim: string; by: string }): Promise<{ closed: boolean }> {
    const { chargeBoxId, claim } = req;
    const mine = this.#mine.get(chargeBoxId) === claim;
    if (!mine && !this.#closings.has(claim)) return { closed: false };
    let closed = false;
    if (mine) {
      this.counters.releasedHere++;
      this.logger.warn({ chargeBoxId, by: req.by }, 'second connection for this chargeBoxId on another node replaces this one');
      closed = this.relay.disconnect(chargeBoxId, CloseCode.policyViolation, `replaced by a new connection for the same chargeBoxId on node ${req.by}`);
    }
    const closing = this.#closingOf(claim);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closing.done, new Promise<void>((r) => (timer = setTimeout(r, RELEASE_WAIT_MS)))]);
    clearTimeout(timer);
    // A close never seen (the link was already gone from the relay): the claim has passed on all the same.
    if (closing.chargeBoxId === undefined) {
      this.#closings.delete(claim);
      if (this.#mine.get(chargeBoxId) === claim) this.#mine.delete(chargeBoxId);
    }
    return { closed };
  }

  #reclaimAll(): void {
    for (const [id, claim] of this.#mine) {
      this.redis.client.eval(CLAIM_IF_FREE, 1, this.keys.owner(id), claim).catch(() => undefined);
    }
  }
}

function nodeOf(claim: string): string {
  const i = claim.lastIndexOf(' ');
  return i < 0 ? claim : claim.slice(0, i);
}
