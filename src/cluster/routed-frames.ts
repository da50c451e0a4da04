// The live frame stream (Socket.IO `frames:subscribe`) across nodes: each node logs its own stations' frames, so
// while a node has frame clients (said in its heartbeat) every other node sends it its logged frames over pub/sub,
// each with the node that logged it; the receiving push server filters them per client as its own. Nothing is sent
// while no node has frame clients. Pub/sub delivers at most once: a frame lost with Redis is missing from the stream
// (the message log still has it).
import type { Bus } from '../events/bus.js';
import type { LogEntry } from '../events/observations.js';
import { entryJson } from '../log/entry.js';
import type { Membership } from './membership.js';
import type { ClusterRpc } from './rpc.js';

/** What the push server takes (src/push PushServerDeps.remoteFrames). */
export interface RemoteFrames {
  /** Frames other nodes logged, each with `node`. */
  on(deliver: (entry: LogEntry) => void): () => void;
  /** Whether this node has frame clients now. */
  want(wanted: boolean): void;
}

export function routedFrames(bus: Bus, rpc: ClusterRpc, membership: Membership, counters: { sent: number; received: number }): RemoteFrames & { readonly wanted: boolean; start(): () => void } {
  let wanted = false;
  let deliver: ((entry: LogEntry) => void) | undefined;
  rpc.listen('frame', (body, from) => {
    if (!deliver || typeof body !== 'string') return;
    counters.received++;
    deliver({ ...(JSON.parse(body) as LogEntry), node: from } as LogEntry);
  });
  return {
    get wanted() {
      return wanted;
    },
    on(fn) {
      deliver = fn;
      return () => {
        deliver = undefined;
      };
    },
    want(w) {
      wanted = w;
    },
    start: () => bus.on('logged', (entry) => {
      if (!membership.peers().some((p) => p.framesWanted === true)) return;
      counters.sent++;
      rpc.broadcast('frame', entryJson(entry));
    }),
  };
}
