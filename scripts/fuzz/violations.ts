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
