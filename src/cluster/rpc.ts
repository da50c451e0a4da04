// Requests from one node to another over Redis pub/sub: each node listens on its own channel; an answer goes to
// the asker's channel with the request's id. Pub/sub delivers at most once, so every request has a timeout.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { GATEWAY_ERRORS, GatewayError, type GatewayErrorCode } from '../errors.js';
import type { ClusterKeys } from './keys.js';
import type { RedisLink } from './redis.js';

type Handler = (body: unknown, from: string) => Promise<unknown>;
type Listener = (body: unknown, from: string) => void;

interface Envelope {
  readonly id: string;
  readonly from: string;
  readonly kind?: string;
  readonly body?: unknown;
  /** Set on answers: the handler's value, or its error. */
  readonly ok?: boolean;
  readonly value?: unknown;
  readonly error?: { readonly code?: string; readonly message: string; readonly details?: unknown };
}

export class RpcError extends Error {
  constructor(readonly code: string | undefined, message: string, readonly details?: unknown) {
    super(message);
    this.name = 'RpcError';
  }
}

/** Another node's refusal keeps its GW_ERR_* code (not connected, too large, queue full); a node that did not
 * answer is GW_ERR_CLUSTER_UNREACHABLE. Either way the error names the node. */
export function asGatewayError(err: unknown, node: string): unknown {
  if (!(err instanceof RpcError)) return err;
  const code = err.code !== undefined && err.code in GATEWAY_ERRORS ? (err.code as GatewayErrorCode) : 'GW_ERR_CLUSTER_UNREACHABLE';
  const details = typeof err.details === 'object' && err.details !== null ? (err.details as Record<string, unknown>) : {};
  return new GatewayError(code, err.message, { ...details, node });
}

export class ClusterRpc {
  readonly #handlers = new Map<string, Handler>();
  readonly #listeners = new Map<string, Listener>();
  readonly #pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly counters = { sent: 0, served: 0, timeouts: 0, failed: 0 };

  constructor(
    private readonly pub: RedisLink,
    private readonly sub: RedisLink,
    private readonly keys: ClusterKeys,
    private readonly nodeId: () => string,
    private readonly logger: Logger,
  ) {}

  handle(kind: string, fn: Handler): void {
    this.#handlers.set(kind, fn);
  }

  /** Messages other nodes send to every node with broadcast (not this node's own). */
  listen(kind: string, fn: Listener): void {
    this.#listeners.set(kind, fn);
  }

  /** To every other listening node, at most once, no answer. */
  broadcast(kind: string, body: unknown): void {
    if (!this.pub.up) return;
    this.pub.client.publish(this.keys.broadcast, JSON.stringify({ id: '', from: this.nodeId(), kind, body })).catch(() => {
      this.counters.failed++;
    });
  }

  /** Subscribes (again after every reconnection) to this node's channel and the one to every node. */
  start(): void {
    const subscribe = (): void => {
      this.sub.client.subscribe(this.keys.rpc(this.nodeId()), this.keys.broadcast).catch((err: unknown) => this.logger.warn({ err: String(err) }, 'cluster rpc subscribe failed'));
    };
    this.sub.onUp(subscribe);
    if (this.sub.up) subscribe();
    this.sub.client.on('message', (channel: string, text: string) => {
      if (channel === this.keys.broadcast) this.#heard(text);
      else this.#received(text);
    });
  }

  stop(): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new RpcError('GW_ERR_CLUSTER_UNREACHABLE', 'gateway node stopping'));
      this.#pending.delete(id);
    }
  }

  request(node: string, kind: string, body: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.pub.up) return Promise.reject(new RpcError('GW_ERR_CLUSTER_UNREACHABLE', `Redis is down: node ${node} cannot be reached`));
    const id = randomUUID();
    const envelope: Envelope = { id, from: this.nodeId(), kind, body };
    this.counters.sent++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.counters.timeouts++;
        reject(new RpcError('GW_ERR_CLUSTER_UNREACHABLE', `gateway node ${node} did not answer within ${timeoutMs} ms`, { node }));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.pub.client.publish(this.keys.rpc(node), JSON.stringify(envelope)).then(
        (receivers) => {
          if (receivers === 0) this.#settle(id, { id, from: node, ok: false, error: { code: 'GW_ERR_CLUSTER_UNREACHABLE', message: `gateway node ${node} is not listening` } });
        },
        (err: unknown) => this.#settle(id, { id, from: node, ok: false, error: { code: 'GW_ERR_CLUSTER_UNREACHABLE', message: `cannot reach node ${node}: ${String(err)}` } }),
      );
    });
  }

  #heard(text: string): void {
    try {
      const env = JSON.parse(text) as Envelope;
      if (env.from !== this.nodeId() && env.kind !== undefined) this.#listeners.get(env.kind)?.(env.body, env.from);
    } catch (err) {
      this.logger.debug({ err: String(err) }, 'cluster broadcast not understood');
    }
  }

  #received(text: string): void {
    let env: Envelope;
    try {
      env = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    if (env.ok !== undefined) {
      this.#settle(env.id, env);
      return;
    }
    const handler = env.kind !== undefined ? this.#handlers.get(env.kind) : undefined;
    const answer = (a: Omit<Envelope, 'id' | 'from'>): void => {
      this.pub.client.publish(this.keys.rpc(env.from), JSON.stringify({ id: env.id, from: this.nodeId(), ...a })).catch(() => {
        this.counters.failed++;
      });
    };
    if (!handler) {
      answer({ ok: false, error: { message: `unknown request ${String(env.kind)}` } });
      return;
    }
    this.counters.served++;
    handler(env.body, env.from).then(
      (value) => answer({ ok: true, value }),
      (err: unknown) => {
        const e = err as { code?: unknown; message?: unknown; details?: unknown };
        answer({ ok: false, error: { ...(typeof e.code === 'string' ? { code: e.code } : {}), message: String(e.message ?? err), ...(e.details !== undefined ? { details: e.details } : {}) } });
      },
    );
  }

  #settle(id: string, env: Envelope): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    if (env.ok) p.resolve(env.value);
    else p.reject(new RpcError(env.error?.code, env.error?.message ?? 'request failed', env.error?.details));
  }
}
