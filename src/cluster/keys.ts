// Every Redis key and channel the cluster uses, in one place (all under the configured prefix).
export class ClusterKeys {
  constructor(readonly prefix: string) {}
  /** Sorted set: node id → last heartbeat (ms). */
  get nodes(): string {
    return `${this.prefix}:nodes`;
  }
  /** A node's heartbeat record (JSON, expires with the node). */
  node(id: string): string {
    return `${this.prefix}:node:${id}`;
  }
  /** A node's stations (JSON list, expires with the node). */
  nodeStations(id: string): string {
    return `${this.prefix}:node:${id}:stations`;
  }
  /** Which node and connection hold a station. */
  owner(chargeBoxId: string): string {
    return `${this.prefix}:owner:${chargeBoxId}`;
  }
  /** Requests to a node, and answers to it. */
  rpc(nodeId: string): string {
    return `${this.prefix}:rpc:${nodeId}`;
  }
  /** The binlog reader lease ("token nodeId") and the counter its fencing tokens come from. */
  get lease(): string {
    return `${this.prefix}:binlog:lease`;
  }
  get leaseToken(): string {
    return `${this.prefix}:binlog:token`;
  }
  /** The binlog position after the last published transaction. */
  get checkpoint(): string {
    return `${this.prefix}:binlog:checkpoint`;
  }
  /** The stream of every node's sequenced events, in the one order all nodes record them in. */
  get events(): string {
    return `${this.prefix}:sequenced`;
  }
  /** Hash: chargeBoxId → the station's newest seq. */
  get seqs(): string {
    return `${this.prefix}:seq`;
  }
  /** Messages to every node (live charger-test updates). */
  get broadcast(): string {
    return `${this.prefix}:all`;
  }
  /** Which node keeps a charger test run (expires a week after the run started). */
  testRun(runId: string): string {
    return `${this.prefix}:testrun:${runId}`;
  }
  /** Hash: per station, the highest event `seq` a node has taken for delivery to the webhook subscription. */
  webhookClaim(subscription: string): string {
    return `${this.prefix}:webhook:${subscription}`;
  }
  /** Hash: per station, the node that claimed its last event for the webhook subscription, and when ("node ms"). */
  webhookDeliverer(subscription: string): string {
    return `${this.prefix}:webhook:${subscription}:by`;
  }
}
