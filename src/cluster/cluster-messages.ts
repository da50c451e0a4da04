// GET /api/messages (JSON pages) for the whole cluster: each node logs its own stations' frames, so a page asks
// every live node for the same query, merges the answers newest first by time and names nodes that did not answer.
// The page's cursor holds one position per node (base64url JSON); a node whose entries are all used up is dropped.
import type { LogEntry } from '../events/observations.js';
import { parseCursor, type MessageLog, type MessageQuery } from '../log/index.js';
import { entryJson } from '../log/entry.js';
import type { Membership } from './membership.js';
import type { ClusterRpc } from './rpc.js';

/** Position per node: the node's own cursor, '' for its first page. */
type Positions = Record<string, string>;

export interface ClusterMessagePage {
  /** Each entry as JSON text with its node. */
  readonly entries: readonly string[];
  readonly nextCursor?: string;
  readonly unanswered: readonly { readonly node: string; readonly message: string }[];
}

export function parseClusterCursor(text: string): Positions | undefined {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const entries = Object.entries(v as Record<string, unknown>);
    if (!entries.every(([, c]) => c === '' || (typeof c === 'string' && parseCursor(c) !== undefined))) return undefined;
    return Object.fromEntries(entries) as Positions;
  } catch {
    return undefined;
  }
}

export type ClusterMessageQuery = (q: MessageQuery & { readonly limit: number }, cursor: Positions | undefined) => Promise<ClusterMessagePage>;

export function clusterMessages(log: MessageLog, rpc: ClusterRpc, membership: Membership, nodeId: () => string, timeoutMs: number): ClusterMessageQuery {
  // Entries travel as entryJson text: an entry that cannot be serialised is shown as raw text, never fails the page.
  const pageHere = async (q: MessageQuery): Promise<{ entries: string[]; nextCursor?: string }> => {
    const page = await log.query(q);
    return { entries: page.entries.map((e) => entryJson(e)), ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) };
  };
  rpc.handle('messages', (body) => pageHere(body as MessageQuery));

  return async function query(q: MessageQuery & { readonly limit: number }, cursor: Positions | undefined): Promise<ClusterMessagePage> {
    const { cursor: _c, ...filter } = q;
    const nodes = cursor ?? Object.fromEntries([nodeId(), ...membership.peers().map((p) => p.nodeId)].map((n) => [n, '']));
    const unanswered: { node: string; message: string }[] = [];
    const next: Positions = {};
    const found: { node: string; entry: LogEntry; text: string }[] = [];
    const pages = new Map<string, { count: number; nextCursor?: string }>();
    await Promise.all(Object.entries(nodes).map(async ([node, position]) => {
      const ask = { ...filter, ...(position !== '' ? { cursor: position } : {}) };
      try {
        const page = node === nodeId() ? await pageHere(ask) : (await rpc.request(node, 'messages', ask, timeoutMs)) as { entries: string[]; nextCursor?: string };
        pages.set(node, { count: page.entries.length, ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) });
        for (const text of page.entries) found.push({ node, entry: JSON.parse(text) as LogEntry, text });
      } catch (err) {
        unanswered.push({ node, message: (err as Error).message });
      }
    }));
    found.sort((x, y) => (x.entry.time < y.entry.time ? 1 : x.entry.time > y.entry.time ? -1 : x.node.localeCompare(y.node)));
    const taken = found.slice(0, q.limit);
    for (const [node, page] of pages) {
      const mine = taken.filter((t) => t.node === node);
      const last = mine.at(-1);
      if (mine.length < page.count) next[node] = last !== undefined ? String(last.entry.id) : nodes[node] ?? '';
      else if (page.nextCursor !== undefined) next[node] = page.nextCursor;
    }
    // A node that did not answer is left out of the next pages (named in `unanswered`), so paging always ends.
    const more = Object.keys(next).length > 0;
    return {
      entries: taken.map((t) => `{"node":${JSON.stringify(t.node)},${t.text.slice(1)}`),
      ...(more ? { nextCursor: Buffer.from(JSON.stringify(next)).toString('base64url') } : {}),
      unanswered,
    };
  };
}
