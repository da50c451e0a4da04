// Fault rules in scenario files (issue #14 part 1): a `fault` step sets a rule on the selected stations through the
// gateway the stations connect to (REST /api/stations/:id/faults, the same rule shape), `clearFaults` removes them.
// The simulator cannot reach the relay itself (it may run in another process, against a remote gateway), so it
// goes through a narrow port; the rule's JSON schema here is what the scenario schema publishes for it, and the
// gateway checks each rule again when it is set.

const seconds7d = { type: 'number', minimum: 0.001, maximum: 604_800 };
const names = { type: 'array', minItems: 1, items: { type: 'string', minLength: 1, maxLength: 64 } };
const delayMs = { type: 'number', minimum: 0, maximum: 600_000 };
const common = {
  kind: { enum: ['drop', 'delay', 'duplicate', 'reorder', 'corrupt', 'stall', 'upstreamDown', 'answer', 'cut'] },
  durationS: { ...seconds7d, description: 'seconds of the simulator clock (divided by the clock speed for the gateway)' },
  until: { type: 'string', minLength: 1 },
  persistent: { type: 'boolean' },
};
const filter = {
  direction: { enum: ['toUpstream', 'toStation', 'both'] },
  actions: names,
  messageTypes: { type: 'array', minItems: 1, items: { enum: ['CALL', 'CALLRESULT', 'CALLERROR'] } },
  rate: { type: 'number', minimum: 0, maximum: 1 },
  seed: { type: 'integer', minimum: 0, maximum: 4_294_967_295 },
};
const answer = {
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['result'], properties: { result: { type: 'object' } } },
    { type: 'object', additionalProperties: false, required: ['bootStatus'], properties: { bootStatus: { enum: ['Accepted', 'Pending', 'Rejected'] }, interval: { type: 'integer', minimum: 0, maximum: 86_400 } } },
    { type: 'object', additionalProperties: false, required: ['idTagStatus'], properties: { idTagStatus: { enum: ['Accepted', 'Invalid', 'Blocked', 'Expired', 'ConcurrentTx'] } } },
    {
      type: 'object', additionalProperties: false, required: ['callError'],
      properties: {
        callError: {
          type: 'object', additionalProperties: false, required: ['code'],
          properties: {
            code: { enum: ['NotImplemented', 'NotSupported', 'InternalError', 'ProtocolError', 'SecurityError', 'FormationViolation', 'PropertyConstraintViolation', 'OccurenceConstraintViolation', 'TypeConstraintViolation', 'GenericError'] },
            description: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    { type: 'object', additionalProperties: false, required: ['none'], properties: { none: { const: true } } },
  ],
};
const delay = {
  oneOf: [
    delayMs,
    { type: 'object', additionalProperties: false, required: ['ms'], properties: { ms: delayMs } },
    { type: 'object', additionalProperties: false, required: ['min', 'max'], properties: { min: delayMs, max: delayMs } },
    { type: 'object', additionalProperties: false, required: ['mean', 'sd'], properties: { mean: delayMs, sd: delayMs } },
  ],
};
const timed = { anyOf: [{ required: ['durationS'] }, { required: ['until'] }] };

/** A rule of one kind: its own fields only, like the gateway's parser (src/relay/faults/rule.ts). */
function kindRule(kind: string, own: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { if: { properties: { kind: { const: kind } } }, then: { propertyNames: { enum: [...Object.keys(common), ...Object.keys(own)] }, properties: own, ...extra } };
}

/** JSON schema of one fault rule: the body of POST /api/stations/:id/faults (README "Fault injection"). */
export const faultRuleSchema = {
  type: 'object',
  required: ['kind'],
  properties: { ...common, ...filter, delay, copies: {}, window: {}, maxHoldMs: {}, mode: {}, answer, abrupt: {}, code: {}, reason: {} },
  allOf: [
    { not: { required: ['durationS', 'until'] } },
    kindRule('drop', filter),
    kindRule('delay', { ...filter, delay }, { required: ['delay'] }),
    kindRule('duplicate', { ...filter, copies: { type: 'integer', minimum: 1, maximum: 10 } }),
    kindRule('reorder', { ...filter, window: { type: 'integer', minimum: 2, maximum: 100 }, maxHoldMs: { type: 'number', minimum: 1, maximum: 600_000 } }),
    kindRule('corrupt', { ...filter, mode: { enum: ['garble', 'truncate'] } }),
    kindRule('stall', filter, { required: ['direction'], ...timed }),
    kindRule('upstreamDown', { mode: { enum: ['silent', 'close'] } }, timed),
    kindRule('answer', { actions: names, mode: { enum: ['instead', 'replace'] }, answer, rate: filter.rate, seed: filter.seed }, { required: ['actions', 'answer'] }),
    kindRule('cut', { abrupt: { type: 'boolean' }, code: { type: 'integer', minimum: 1000, maximum: 4999, not: { enum: [1004, 1005, 1006] } }, reason: { type: 'string' } }),
  ],
} as const;

export type FaultRuleJson = Readonly<Record<string, unknown>>;

/** Where a scenario's fault steps go: the gateway the stations are connected to. */
export interface ScenarioFaults {
  /** Sets the rule; resolves with its id, or with why the gateway refused it. */
  set(chargeBoxId: string, rule: FaultRuleJson): Promise<{ readonly ok: true; readonly id: string } | { readonly ok: false; readonly message: string }>;
  remove(chargeBoxId: string, ruleId: string): Promise<boolean>;
  /** Removes every rule on the station (also those others set); resolves with how many. */
  clear(chargeBoxId: string): Promise<number>;
}

/** The port over the gateway's REST API with an operator token (sent as a header, never in the URL). */
export function restFaults(gatewayUrl: string, token: string): ScenarioFaults {
  const base = gatewayUrl.replace(/\/+$/, '');
  const url = (id: string, rule?: string): string => `${base}/api/stations/${encodeURIComponent(id)}/faults${rule ? `/${encodeURIComponent(rule)}` : ''}`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return {
    async set(id, rule) {
      const res = await fetch(url(id), { method: 'POST', headers, body: JSON.stringify(rule) });
      const body = (await res.json().catch(() => ({}))) as { id?: string; error?: { message?: string } };
      if (res.status === 201 && typeof body.id === 'string') return { ok: true, id: body.id };
      return { ok: false, message: `HTTP ${res.status}: ${body.error?.message ?? 'no reason given'}` };
    },
    async remove(id, ruleId) {
      const res = await fetch(url(id, ruleId), { method: 'DELETE', headers });
      return res.status === 204;
    },
    async clear(id) {
      const res = await fetch(url(id), { method: 'DELETE', headers });
      const body = (await res.json().catch(() => ({}))) as { removed?: number };
      return res.ok ? (body.removed ?? 0) : 0;
    },
  };
}

/** The http(s) origin of a ws(s) target: where the gateway's REST API is when the stations connect to it. */
export function gatewayOf(target: string): string {
  const u = new URL(target);
  return `${u.protocol === 'wss:' ? 'https:' : 'http:'}//${u.host}`;
}

/** The fault rules a scenario set, per station, so that `clearFaults: true` and the end of the run remove them. */
export class ScenarioFaultSteps {
  readonly #set = new Map<string, string[]>();

  constructor(
    private readonly port: ScenarioFaults | undefined,
    private readonly timeScale: number,
  ) {}

  /** Undefined when every station took the rule, else why not. */
  async set(targets: readonly string[], rule: FaultRuleJson): Promise<string | undefined> {
    if (!this.port) return 'no gateway to set fault rules on (npm run sim: --gateway URL and TOKEN)';
    const scaled = typeof rule.durationS === 'number' ? { ...rule, durationS: rule.durationS / this.timeScale } : rule;
    const refused: string[] = [];
    for (const id of targets) {
      const r = await this.port.set(id, scaled).catch((err: unknown) => ({ ok: false as const, message: (err as Error).message }));
      if (r.ok) {
        if (rule.kind !== 'cut') this.#set.set(id, [...(this.#set.get(id) ?? []), r.id]);
      } else refused.push(`${id}: ${r.message}`);
    }
    return refused.length > 0 ? `${refused.length} of ${targets.length} refused the rule (${refused.slice(0, 3).join('; ')})` : undefined;
  }

  async clear(targets: readonly string[], all: boolean): Promise<string | undefined> {
    const port = this.port;
    if (!port) return this.#set.size > 0 || all ? 'no gateway to clear fault rules on' : undefined;
    for (const id of targets) {
      const mine = this.#set.get(id) ?? [];
      this.#set.delete(id);
      if (all) await port.clear(id);
      // A rule that expired or went with a disconnect is gone already: nothing to report.
      else for (const ruleId of mine) await port.remove(id, ruleId);
    }
    return undefined;
  }
}
