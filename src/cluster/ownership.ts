// One owner per chargeBoxId across the cluster. A node that takes a station writes "nodeId connection" under the
// station's key and learns who held it; if that was another node, it asks that node to close its link and
// upstream, as the relay does for a second connection on one node. The relay never waits for any of this.
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

export class StationOwnership {
  /** Stations this node holds, with the claim it wrote. */
  readonly #mine = new Map<string, string>();
  #serial = 0;
  #off: (() => void) | undefined;
  readonly counters = { claimed: 0, replacedElsewhere: 0, releasedHere: 0, claimErrors: 0 };

  constructor(
    private readonly redis: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly rpc: ClusterRpc,
    private readonly nodeId: () => string,
    private readonly relay: StationCloser,
    private readonly logger: Logger,
    /** Whether a node is still heard from: a claim left by a node that died holds nothing. */
    private readonly alive: (nodeId: string) => boolean = () => true,
  ) {}

  start(bus: Bus): void {
    this.rpc.handle('release', async (body) => this.#release(body as { chargeBoxId: string; claim: string; by: string }));
    this.#off = bus.on('link', (change) => {
      if (change.kind === 'connected') this.#claim(change.chargeBoxId);
      else if (change.kind === 'disconnected') this.#unclaim(change.chargeBoxId);
    });
    this.redis.onUp(() => this.#reclaimAll());
  }

  stop(): void {
    this.#off?.();
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
    this.redis.client.set(this.keys.owner(chargeBoxId), claim, 'GET').then(
      (previous) => {
        this.counters.claimed++;
        if (previous === null || nodeOf(previous) === this.nodeId()) return;
        this.counters.replacedElsewhere++;
        const node = nodeOf(previous);
        this.rpc.request(node, 'release', { chargeBoxId, claim: previous, by: this.nodeId() }, 2000).catch((err: unknown) => {
          // A node that is gone has no link left to close.
          this.logger.debug({ chargeBoxId, node, err: String(err) }, 'previous holder of the station did not answer');
        });
      },
      (err: unknown) => {
        this.counters.claimErrors++;
        this.logger.debug({ chargeBoxId, err: String(err) }, 'station claim not written; retried when Redis is back');
      },
    );
  }

  #unclaim(chargeBoxId: string): void {
    const claim = this.#mine.get(chargeBoxId);
    if (claim === undefined) return;
    this.#mine.delete(chargeBoxId);
    if (this.redis.up) this.redis.client.eval(RELEASE_IF_MINE, 1, this.keys.owner(chargeBoxId), claim).catch(() => undefined);
  }

  async #release(req: { chargeBoxId: string; claim: string; by: string }): Promise<{ closed: boolean }> {
    if (this.#mine.get(req.chargeBoxId) !== req.claim) return { closed: false };
    this.#mine.delete(req.chargeBoxId);
    this.counters.releasedHere++;
    this.logger.warn({ chargeBoxId: req.chargeBoxId, by: req.by }, 'second connection for this chargeBoxId on another node replaces this one');
    return { closed: this.relay.disconnect(req.chargeBoxId, CloseCode.policyViolation, `replaced by a new connection for the same chargeBoxId on node ${req.by}`) };
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
