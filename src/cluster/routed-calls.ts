// Operator calls in cluster mode: a station held here is called through the local relay; one held by another node
// is called through that node (request over Redis), and its answer comes back here.
import type { CallPort } from '../relay/commands.js';
import type { CallOutcome } from '../relay/relay.js';
import type { StationOwnership } from './ownership.js';
import { asGatewayError, type ClusterRpc } from './rpc.js';

interface CallRequest {
  readonly chargeBoxId: string;
  readonly action: string;
  readonly payload: unknown;
  readonly timeoutMs?: number;
}

export class RoutedCalls implements CallPort {
  constructor(
    private readonly local: CallPort & { holds(chargeBoxId: string): boolean },
    private readonly ownership: StationOwnership,
    private readonly rpc: ClusterRpc,
    private readonly defaultTimeoutMs: number,
    private readonly rpcMarginMs: number,
  ) {
    rpc.handle('call', async (body) => {
      const r = body as CallRequest;
      return this.local.call(r.chargeBoxId, r.action, r.payload, r.timeoutMs !== undefined ? { timeoutMs: r.timeoutMs } : {});
    });
  }

  async call(chargeBoxId: string, action: string, payload: unknown, opts: { timeoutMs?: number } = {}): Promise<CallOutcome> {
    if (this.local.holds(chargeBoxId)) return this.local.call(chargeBoxId, action, payload, opts);
    const node = await this.ownership.elsewhere(chargeBoxId);
    if (node === undefined) return this.local.call(chargeBoxId, action, payload, opts);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    try {
      return (await this.rpc.request(node, 'call', { chargeBoxId, action, payload, timeoutMs }, timeoutMs + this.rpcMarginMs)) as CallOutcome;
    } catch (err) {
      throw asGatewayError(err, node);
    }
  }
}
