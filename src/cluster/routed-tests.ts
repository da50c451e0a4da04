// Charger test runs in cluster mode. A run lives in the node holding its station (its runner needs the relay); a
// start asked of another node is sent to the holder, and the run's reports, answers and abort reach it from any
// node: the holder writes which node keeps each run in Redis, and its progress updates go to every node's bus.
import type { Logger } from 'pino';
import type { Bus } from '../events/bus.js';
import type { TestRunOp, TestRunUpdate, TestsAcrossNodes, TestsHere, TestsReply } from '../events/test-runs.js';
import type { ClusterKeys } from './keys.js';
import type { Membership } from './membership.js';
import type { StationOwnership } from './ownership.js';
import type { RedisLink } from './redis.js';
import type { ClusterRpc } from './rpc.js';

export interface RoutedTestsDeps {
  readonly bus: Bus;
  readonly redis: RedisLink;
  readonly keys: ClusterKeys;
  readonly rpc: ClusterRpc;
  readonly ownership: StationOwnership;
  readonly membership: Membership;
  readonly nodeId: () => string;
  readonly timeoutMs: number;
  readonly logger: Logger;
}

const KEEP_RUN_NODE_S = 7 * 24 * 3600;

const unreachable = (node: string, err: unknown): TestsReply => ({
  status: 504,
  body: { error: { code: 'GW_ERR_CLUSTER_UNREACHABLE', node, message: `gateway node ${node} keeping the test run did not answer: ${(err as Error).message}` } },
});

export function routedTests(deps: RoutedTestsDeps): TestsAcrossNodes & { stop(): void } {
  const { rpc, redis, keys, nodeId } = deps;
  let here: TestsHere | undefined;
  const noRuns = (): TestsHere => {
    throw new Error('charger test runs are not served on this node');
  };
  const remember = (runId: string): Promise<void> =>
    redis.up ? redis.client.set(keys.testRun(runId), nodeId(), 'EX', KEEP_RUN_NODE_S).then(() => undefined, (err: unknown) => {
      deps.logger.warn({ runId, err: String(err) }, 'which node keeps the test run not written: other nodes cannot follow it');
    }) : Promise.resolve();

  // Updates of this node's runs go to every node; those of other nodes' runs come onto this node's bus (for
  // `tests:subscribe`), and are not sent on again.
  let relaying = false;
  const off = deps.bus.on('testRun', (update) => {
    if (relaying) return;
    if (update.kind === 'started') void remember(update.runId);
    rpc.broadcast('testRun', update);
  });
  rpc.listen('testRun', (body) => {
    relaying = true;
    try {
      deps.bus.emit('testRun', body as TestRunUpdate);
    } finally {
      relaying = false;
    }
  });
  rpc.handle('testStart', async (body) => {
    const b = body as { chargeBoxId: string; body: unknown };
    const reply = (here ?? noRuns()).start(b.chargeBoxId, b.body);
    // Written before the caller hears the run id, so its first look at the run finds it.
    const runId = (reply.body as { runId?: unknown }).runId;
    if (reply.status === 202 && typeof runId === 'string') await remember(runId);
    return reply;
  });
  rpc.handle('testRun', async (body) => {
    const b = body as { runId: string; op: TestRunOp };
    return (here ?? noRuns()).run(b.runId, b.op) ?? null;
  });
  rpc.handle('testList', async () => (here ?? noRuns()).list());

  return {
    serve(h) {
      here = h;
    },
    holder: (chargeBoxId) => deps.ownership.elsewhere(chargeBoxId),
    async start(node, chargeBoxId, body) {
      try {
        return (await rpc.request(node, 'testStart', { chargeBoxId, body }, deps.timeoutMs)) as TestsReply;
      } catch (err) {
        return unreachable(node, err);
      }
    },
    async run(runId, op) {
      const node = redis.up ? await redis.client.get(keys.testRun(runId)).catch(() => null) : null;
      if (node === null || node === nodeId()) return undefined;
      try {
        return ((await rpc.request(node, 'testRun', { runId, op }, deps.timeoutMs)) as TestsReply | null) ?? undefined;
      } catch (err) {
        return unreachable(node, err);
      }
    },
    async list() {
      const runs: object[] = [];
      const unanswered: { node: string; message: string }[] = [];
      await Promise.all(deps.membership.peers().map(async ({ nodeId: node }) => {
        try {
          for (const r of (await rpc.request(node, 'testList', null, deps.timeoutMs)) as object[]) runs.push({ ...r, node });
        } catch (err) {
          unanswered.push({ node, message: (err as Error).message });
        }
      }));
      return { runs, unanswered };
    },
    stop: off,
  };
}
