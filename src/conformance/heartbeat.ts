// The heartbeat-interval rule (OCPP 1.6 §4.6, §9.1 HeartbeatInterval): a station heartbeats at the interval its
// central system gave it (BootNotification.conf `interval`, or an Accepted ChangeConfiguration HeartbeatInterval),
// within a tolerance. MicroOcpp-style firmware may leave a heartbeat out while other traffic flows, and
// TriggerMessage asks for extra ones, so the rule judges only what cannot be explained:
// - too early: a Heartbeat less than half the interval (less the slack) after the previous one, not triggered;
// - too late: the station said nothing at all for 1.5 × the interval plus the slack, although its last call was
//   answered (an unanswered call holds the station's queue: that is the central system's silence, not the station's).
// Lateness is seen on the frame that ends the silence; gaps across a reconnect or a new boot are not judged.
// Times are the gateway's, in station seconds: a simulated station on a fast clock lives `timeScale` times faster.

/** What the rule is fed with, per frame of one station (gateway ms, already scaled to station time). */
export interface HeartbeatRuleOptions {
  /** Absolute tolerance in station seconds on top of the relative one (network, scheduling). */
  readonly slackS: number;
}

const EARLY = 0.5;
const LATE = 1.5;
const PENDING_MEMORY = 16;

export class HeartbeatRule {
  /** Seconds; undefined until a central system gave one, 0 = heartbeats switched off. */
  #interval: number | undefined;
  #lastHeartbeat: number | undefined;
  #lastCall: number | undefined;
  #lastCallAnswered = true;
  #lastCallId: string | undefined;
  /** The first heartbeat after a new interval follows the old schedule: not judged early. */
  #intervalJustSet = false;
  /** Accepted TriggerMessage Heartbeat not yet followed by the heartbeat it asked for. */
  #triggered = 0;
  /** Calls to the station that may change the interval or ask for a heartbeat, by message id. */
  readonly #pending = new Map<string, { kind: 'interval'; seconds: number } | { kind: 'trigger' }>();

  constructor(private readonly opts: HeartbeatRuleOptions) {}

  connected(): void {
    this.#lastCall = undefined;
    this.#lastHeartbeat = undefined;
    this.#lastCallAnswered = true;
    this.#pending.clear();
  }

  /** The central system's answer to the station's BootNotification. */
  bootAnswered(payload: Record<string, unknown>, atS: number): void {
    if (payload.status !== 'Accepted') return;
    if (typeof payload.interval === 'number' && payload.interval > 0) this.#setInterval(payload.interval);
    this.#lastHeartbeat = undefined;
    this.#lastCall = atS;
  }

  /** A call to the station (from the central system or the gateway): remembered when it concerns heartbeats. */
  callToStation(messageId: string, action: string, payload: Record<string, unknown>): void {
    const triggersHeartbeat = (action === 'TriggerMessage' || action === 'ExtendedTriggerMessage') && payload.requestedMessage === 'Heartbeat';
    const seconds = action === 'ChangeConfiguration' && payload.key === 'HeartbeatInterval' && typeof payload.value === 'string' && /^\d+$/.test(payload.value.trim()) ? Number(payload.value) : undefined;
    if (!triggersHeartbeat && seconds === undefined) return;
    this.#pending.delete(messageId);
    this.#pending.set(messageId, seconds !== undefined ? { kind: 'interval', seconds } : { kind: 'trigger' });
    while (this.#pending.size > PENDING_MEMORY) this.#pending.delete(this.#pending.keys().next().value as string);
  }

  /** The station's answer to a call made to it. */
  stationAnswered(messageId: string, payload: unknown): void {
    const p = this.#pending.get(messageId);
    if (!p) return;
    this.#pending.delete(messageId);
    const status = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).status : undefined;
    if (status !== 'Accepted') return;
    if (p.kind === 'interval') this.#setInterval(p.seconds);
    else this.#triggered = Math.min(this.#triggered + 1, 4);
  }

  /** The central system answered one of the station's calls. */
  callAnswered(messageId: string): void {
    if (messageId === this.#lastCallId) this.#lastCallAnswered = true;
  }

  /** A call from the station at `atS` (station seconds): the finding's message, or undefined. */
  stationCall(action: string, messageId: string, atS: number): string | undefined {
    let finding: string | undefined;
    const interval = this.#interval;
    if (interval !== undefined && interval > 0) {
      const silent = this.#lastCall !== undefined ? atS - this.#lastCall : undefined;
      if (silent !== undefined && this.#lastCallAnswered && silent > interval * LATE + this.opts.slackS) {
        finding = `${action} after ${Math.round(silent)} s without any call; the heartbeat interval is ${interval} s`;
      } else if (action === 'Heartbeat' && this.#lastHeartbeat !== undefined && !this.#intervalJustSet && this.#triggered === 0) {
        const gap = atS - this.#lastHeartbeat;
        if (gap < interval * EARLY - this.opts.slackS) finding = `Heartbeat ${gap.toFixed(1)} s after the previous one; the heartbeat interval is ${interval} s`;
      }
    }
    if (action === 'Heartbeat') {
      // A triggered heartbeat leaves the station's own schedule alone: the next one is measured from the one before.
      if (this.#triggered > 0) this.#triggered--;
      else {
        this.#lastHeartbeat = atS;
        this.#intervalJustSet = false;
      }
    }
    if (action === 'BootNotification') this.#lastHeartbeat = undefined;
    this.#lastCall = atS;
    this.#lastCallId = messageId;
    this.#lastCallAnswered = false;
    return finding;
  }

  #setInterval(seconds: number): void {
    if (seconds !== this.#interval) this.#intervalJustSet = true;
    this.#interval = seconds;
  }
}
