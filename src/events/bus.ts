// The event bus: the only place where modules on one level meet. main.ts creates one and hands it out.
// Listeners run synchronously; producers on the relay path only ever emit copies after forwarding.
import { EventEmitter } from 'node:events';
import type { EventInput, GatewayEvent } from './catalogue.js';
import type { FrameObservation, LinkStateChange, LogEntry } from './observations.js';
import type { TestRunUpdate } from './test-runs.js';
import type { ConformanceFinding } from './conformance.js';

export interface BusChannels {
  /** Every frame a link or the relay saw, in order per station. */
  frame: [FrameObservation];
  /** A frame after the message log gave it an id and findings. */
  logged: [LogEntry];
  /** Station links and upstreams coming and going, as they happen. */
  link: [LinkStateChange];
  /**
   * The same link changes, each once the message log has announced ('logged') every frame observed before it, and
   * never in the turn of its 'link': observers of both (the event model, conformance, cluster ownership) see a
   * connection's last frames before its close, and an old connection's frames before its replacement's connect.
   */
  loggedLink: [LinkStateChange];
  /** An event from a producer, not yet sequenced. */
  eventInput: [EventInput];
  /** A sequenced, de-duplicated event, ready for state and push. */
  event: [GatewayEvent];
  /** Progress of a charger test run (src/charger-tests/). */
  testRun: [TestRunUpdate];
  /** A frame that broke a passive conformance rule (src/conformance/). */
  conformance: [ConformanceFinding];
}

export class Bus {
  readonly #emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.#emitter.setMaxListeners(100);
  }

  on<K extends keyof BusChannels>(channel: K, listener: (...args: BusChannels[K]) => void): () => void {
    const fn = listener as (...args: unknown[]) => void;
    this.#emitter.on(channel, fn);
    return () => this.#emitter.off(channel, fn);
  }

  emit<K extends keyof BusChannels>(channel: K, ...args: BusChannels[K]): void {
    this.#emitter.emit(channel, ...args);
  }

  listenerCount(channel: keyof BusChannels): number {
    return this.#emitter.listenerCount(channel);
  }
}
