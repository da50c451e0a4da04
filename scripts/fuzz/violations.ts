// Violations by kind: a count and the first few examples of each, so a long run's report stays short.

const EXAMPLES_PER_KIND = 3;

export class Violations {
  readonly #byKind = new Map<string, { count: number; examples: string[] }>();

  add(kind: string, example: string): void {
    let entry = this.#byKind.get(kind);
    if (!entry) this.#byKind.set(kind, (entry = { count: 0, examples: [] }));
    entry.count++;
    if (entry.examples.length < EXAMPLES_PER_KIND) entry.examples.push(example);
  }

  /** Plain data, to travel between processes. */
  entries(): Array<[string, { count: number; examples: string[] }]> {
    return [...this.#byKind].map(([k, e]) => [k, { count: e.count, examples: [...e.examples] }]);
  }

  /** Adds what another process recorded. */
  merge(entries: ReadonlyArray<readonly [string, { readonly count: number; readonly examples: readonly string[] }]>): void {
    for (const [kind, e] of entries) {
      let entry = this.#byKind.get(kind);
      if (!entry) this.#byKind.set(kind, (entry = { count: 0, examples: [] }));
      entry.count += e.count;
      for (const x of e.examples) if (entry.examples.length < EXAMPLES_PER_KIND) entry.examples.push(x);
    }
  }

  count(kind?: string): number {
    if (kind !== undefined) return this.#byKind.get(kind)?.count ?? 0;
    let n = 0;
    for (const e of this.#byKind.values()) n += e.count;
    return n;
  }

  /** One line per kind: `VIOLATION <kind>: <count> — e.g. <examples>`. */
  lines(prefix: string): string[] {
    return [...this.#byKind].map(([kind, e]) => `${prefix}VIOLATION ${kind}: ${e.count}; e.g. ${e.examples.join(' | ')}`);
  }
}
