// What a simulated station keeps on "flash" across a power loss or a crash, as one PersistedQueue in its file
// (queue-store.ts): the queued transaction messages, the open sessions and their ids, and the configuration keys the
// central system changed. Nothing worth keeping: no file.
import type { KeyStore } from './keys.js';
import type { Outbox } from './outbox.js';
import type { Persistable, PersistedQueue } from './queue-store.js';
import type { StationEnv } from './station-env.js';
import type { Transactions } from './transactions.js';

export class Flash {
  /** The key store differs from the spec by a ChangeConfiguration: it is written too. */
  #configChanged = false;

  constructor(
    private readonly station: Persistable,
    private readonly keys: KeyStore,
    private readonly outbox: Outbox,
    private readonly tx: Transactions,
    private readonly env: StationEnv,
  ) {}

  /** A ChangeConfiguration was accepted: the keys are written with the next batch. */
  configChanged(): void {
    this.#configChanged = true;
    this.env.store.markDirty(this.station);
  }

  snapshot(): PersistedQueue | undefined {
    const messages = this.outbox.persisted();
    const tx = this.tx.saved(messages);
    if (messages.length === 0 && tx.open.length === 0 && !this.#configChanged) return undefined;
    return { v: 1, ...tx, messages, ...(this.#configChanged ? { config: this.keys.overrides() } : {}) };
  }

  /** At construction, from the station's file (undefined: none). */
  restore(saved: PersistedQueue | undefined): void {
    if (!saved) return;
    if (saved.config) {
      for (const [k, v] of Object.entries(saved.config)) this.keys.change(k, v);
      this.#configChanged = true;
    }
    this.outbox.restore(saved.messages);
    this.tx.restore(saved, this.env.clock.now());
  }
}
