// GET /api/messages: the message log, filtered, newest first; one page as JSON or the whole selection streamed as
// JSON Lines or CSV. Every bad parameter is a 400 that names it. Authentication is mounted in front by the caller.
import { Router, type Request, type Response } from 'express';
import type { LogEntry } from '../events/observations.js';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, parseCursor, type ClusterMessagesPort, type MessageLog, type MessageQuery } from '../log/index.js';
import { csvHeader, csvRow } from '../log/csv.js';
import { entryJson } from '../log/entry.js';
import { DIRECTIONS, DISPOSITIONS, LEGS, MESSAGE_TYPES, ORIGINS } from '../log/record.js';
import { parseIsoMicros } from '../log/time.js';

const FORMATS = ['json', 'jsonl', 'csv'] as const;
type Format = (typeof FORMATS)[number];

const LIST_PARAMS = ['chargeBoxId', 'action', 'direction', 'leg', 'messageType', 'origin', 'disposition'] as const;
const KNOWN = new Set<string>([...LIST_PARAMS, 'since', 'until', 'hasFindings', 'cursor', 'limit', 'format']);
const FLUSH_BYTES = 64 * 1024;

class BadParameter extends Error {
  constructor(readonly parameter: string, message: string) {
    super(message);
  }
}

type Query = Request['query'];

/** All values of a parameter (it may repeat); undefined when absent. */
function all(q: Query, name: string): string[] | undefined {
  const raw = q[name];
  if (raw === undefined) return undefined;
  const list = Array.isArray(raw) ? raw : [raw];
  if (!list.every((v): v is string => typeof v === 'string' && v !== '')) throw new BadParameter(name, `${name} must not be empty`);
  return list;
}

function one(q: Query, name: string): string | undefined {
  const list = all(q, name);
  if (list && list.length > 1) throw new BadParameter(name, `${name} may be given only once`);
  return list?.[0];
}

function enumValues<T extends string>(q: Query, name: string, allowed: readonly T[]): T[] | undefined {
  const list = all(q, name);
  for (const v of list ?? []) {
    if (!(allowed as readonly string[]).includes(v)) throw new BadParameter(name, `${name} must be one of ${allowed.join(', ')} (got "${v}")`);
  }
  return list as T[] | undefined;
}

function time(q: Query, name: string): number | undefined {
  const v = one(q, name);
  if (v === undefined) return undefined;
  const us = parseIsoMicros(v);
  if (us === undefined) throw new BadParameter(name, `${name} must be an ISO 8601 time such as 2025-03-01T12:00:00.000000Z (got "${v}")`);
  return us;
}

interface ParsedRequest {
  readonly query: MessageQuery;
  readonly format: Format;
}

function parse(q: Query): ParsedRequest {
  for (const name of Object.keys(q)) {
    if (!KNOWN.has(name)) throw new BadParameter(name, `unknown parameter "${name}"; known: ${[...KNOWN].join(', ')}`);
  }
  const formatText = one(q, 'format') ?? 'json';
  if (!(FORMATS as readonly string[]).includes(formatText)) throw new BadParameter('format', `format must be one of ${FORMATS.join(', ')} (got "${formatText}")`);
  const format = formatText as Format;
  const sinceUs = time(q, 'since');
  const untilUs = time(q, 'until');
  if (sinceUs !== undefined && untilUs !== undefined && untilUs < sinceUs) throw new BadParameter('until', 'until must not be before since');
  const hasFindings = one(q, 'hasFindings');
  if (hasFindings !== undefined && hasFindings !== 'true' && hasFindings !== 'false') throw new BadParameter('hasFindings', 'hasFindings must be true or false');
  const cursor = one(q, 'cursor');
  if (cursor !== undefined && parseCursor(cursor) === undefined) throw new BadParameter('cursor', 'cursor must be a nextCursor value from an earlier page');
  const limitText = one(q, 'limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!/^\d+$/.test(limitText ?? '') || limit < 1 || (format === 'json' && limit > MAX_PAGE_LIMIT))) {
    throw new BadParameter('limit', format === 'json' ? `limit must be an integer in 1..${MAX_PAGE_LIMIT}` : 'limit must be a positive integer');
  }
  const chargeBoxId = all(q, 'chargeBoxId');
  const action = all(q, 'action');
  const direction = enumValues(q, 'direction', DIRECTIONS);
  const leg = enumValues(q, 'leg', LEGS);
  const messageType = enumValues(q, 'messageType', MESSAGE_TYPES);
  const origin = enumValues(q, 'origin', ORIGINS);
  const disposition = enumValues(q, 'disposition', DISPOSITIONS);
  return {
    format,
    query: {
      ...(chargeBoxId && { chargeBoxId }),
      ...(action && { action }),
      ...(direction && { direction }),
      ...(leg && { leg }),
      ...(messageType && { messageType }),
      ...(origin && { origin }),
      ...(disposition && { disposition }),
      ...(sinceUs !== undefined && { sinceUs }),
      ...(untilUs !== undefined && { untilUs }),
      ...(hasFindings !== undefined && { hasFindings: hasFindings === 'true' }),
      ...(cursor !== undefined && { cursor }),
      ...(limit !== undefined && { limit }),
    },
  };
}

function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Streams the selection in chunks, honouring backpressure and stopping when the client goes away. */
async function exportEntries(res: Response, log: MessageLog, q: MessageQuery, format: Exclude<Format, 'json'>): Promise<void> {
  const { cursor, limit, ...filter } = q;
  const beforeId = cursor === undefined ? undefined : parseCursor(cursor);
  res.status(200);
  res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="messages.${format}"`);
  const row = format === 'csv' ? csvRow : (e: LogEntry): string => `${entryJson(e)}\n`;
  let chunk = format === 'csv' ? csvHeader() : '';
  let sent = 0;
  for await (const entry of log.entries(beforeId === undefined ? filter : { ...filter, beforeId })) {
    if (res.destroyed) break;
    chunk += row(entry);
    if (chunk.length >= FLUSH_BYTES) {
      if (!res.write(chunk)) await drained(res);
      chunk = '';
    }
    if (limit !== undefined && ++sent >= limit) break;
  }
  if (!res.destroyed) res.end(chunk);
}

/** Cluster mode: the whole selection of every live node, newest first by time, paged through the merged JSON pages;
 * each line or row names its node. Nodes that did not answer the first page are named in a header. */
async function exportCluster(res: Response, cluster: ClusterMessagesPort, q: MessageQuery, cursor: object | undefined, format: Exclude<Format, 'json'>): Promise<void> {
  const { limit, cursor: _c, ...filter } = q;
  let page = await cluster.page({ ...filter, limit: Math.min(limit ?? MAX_PAGE_LIMIT, MAX_PAGE_LIMIT) }, cursor);
  res.status(200);
  res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="messages.${format}"`);
  const unanswered = page.unanswered.map((u) => (u as { node?: unknown }).node).filter((n): n is string => typeof n === 'string');
  if (unanswered.length > 0) res.setHeader('X-Unanswered-Nodes', unanswered.join(', '));
  // Cluster entries are JSON text that starts with their node: a CSV row gets it as a first column.
  const row = format === 'csv'
    ? (text: string): string => {
      const e = JSON.parse(text) as LogEntry & { node: string };
      return `${/[",\r\n]/.test(e.node) ? `"${e.node.replaceAll('"', '""')}"` : e.node},${csvRow(e)}`;
    }
    : (text: string): string => `${text}\n`;
  let chunk = format === 'csv' ? `node,${csvHeader()}` : '';
  let sent = 0;
  for (;;) {
    for (const text of page.entries) {
      if (limit !== undefined && sent >= limit) break;
      chunk += row(text);
      sent++;
    }
    if (chunk.length >= FLUSH_BYTES) {
      if (!res.write(chunk)) await drained(res);
      chunk = '';
    }
    if (res.destroyed || page.nextCursor === undefined || (limit !== undefined && sent >= limit)) break;
    const next = cluster.parseCursor(page.nextCursor);
    page = await cluster.page({ ...filter, limit: Math.min(limit === undefined ? MAX_PAGE_LIMIT : limit - sent, MAX_PAGE_LIMIT) }, next);
  }
  if (!res.destroyed) res.end(chunk);
}

const cursorField = (next: string | undefined): string => (next === undefined ? '' : `,"nextCursor":${JSON.stringify(next)}`);

/** Cluster mode: JSON pages for every node (src/cluster/cluster-messages.ts); its cursors are its own. */
export function messagesRouter(log: MessageLog, cluster?: ClusterMessagesPort): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    let parsed: ParsedRequest;
    let clusterCursor: object | undefined;
    // Cluster mode answers for every node, JSON pages and exports (jsonl, csv) alike.
    const clusterPage = cluster;
    try {
      const { cursor, ...rest } = req.query;
      if (clusterPage && cursor !== undefined) {
        clusterCursor = typeof cursor === 'string' ? clusterPage.parseCursor(cursor) : undefined;
        if (clusterCursor === undefined) throw new BadParameter('cursor', 'cursor must be a nextCursor value from an earlier page');
      }
      parsed = parse(clusterPage ? rest : req.query);
    } catch (err) {
      if (!(err instanceof BadParameter)) throw err;
      res.status(400).json({ error: { code: 'bad_request', parameter: err.parameter, message: err.message } });
      return;
    }
    if (clusterPage && parsed.format !== 'json') {
      try {
        await exportCluster(res, clusterPage, parsed.query, clusterCursor, parsed.format);
      } catch (err) {
        if (!res.headersSent) throw err;
        res.destroy(err as Error);
      }
      return;
    }
    if (clusterPage) {
      const page = await clusterPage.page({ ...parsed.query, limit: parsed.query.limit ?? DEFAULT_PAGE_LIMIT }, clusterCursor);
      res.type('application/json').send(`{"entries":[${page.entries.join(',')}]${cursorField(page.nextCursor)},"unanswered":${JSON.stringify(page.unanswered)}}`);
      return;
    }
    if (parsed.format === 'json') {
      // Entry by entry, so one entry that cannot be serialised is rendered as raw text instead of failing the page.
      const page = await log.query({ limit: DEFAULT_PAGE_LIMIT, ...parsed.query });
      res.type('application/json').send(`{"entries":[${page.entries.map((e) => entryJson(e)).join(',')}]${cursorField(page.nextCursor)}}`);
      return;
    }
    try {
      await exportEntries(res, log, parsed.query, parsed.format);
    } catch (err) {
      // Headers are gone by now: all that is left is to cut the stream so the client sees it is incomplete.
      res.destroy(err as Error);
    }
  });
  return router;
}
