/**
 * The builders every exposure_ family is made with. All render at scrape time: collect() resets the metric
 * and sets it again from the state, synchronously, so a series whose source is gone disappears and no scrape
 * mixes two cycles (prom-client's collect callback, writing_exporters.md).
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export interface FamilyDefinition<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
}

type SetSeries<L extends string> = (labels: Partial<Record<L, string | number>>, value: number) => void;

/** A gauge (or, with `counter: true`, a counter) whose series are all rebuilt by `render` at each scrape. */
export function registerRenderedFamily<L extends string>(
  registry: Registry,
  definition: FamilyDefinition<L> & { readonly counter?: boolean },
  render: (set: SetSeries<L>) => void,
): void {
  const { name, help, labelNames = [] } = definition;
  const options = { name, help, labelNames: [...labelNames], registers: [registry] };
  if (definition.counter) {
    new Counter<L>({
      ...options,
      collect() {
        this.reset();
        render((labels, value) => this.inc(labels, value));
      },
    });
    return;
  }
  new Gauge<L>({
    ...options,
    collect() {
      this.reset();
      render((labels, value) => this.set(labels, value));
    },
  });
}

/**
 * A gauge without labels that is absent, not 0, while there is nothing to report (before the first cycle,
 * without an inventory): prom-client's reset() leaves an unlabelled gauge at 0, remove() drops it.
 */
export function registerOptionalGauge(registry: Registry, definition: FamilyDefinition<never>, read: () => number | undefined): void {
  new Gauge({
    name: definition.name,
    help: definition.help,
    registers: [registry],
    collect() {
      this.reset();
      this.remove();
      const value = read();
      if (value !== undefined) this.set(value);
    },
  });
}

/** An unlabelled gauge that always has a value. */
export function registerGauge(registry: Registry, definition: FamilyDefinition<never>, read: () => number): void {
  registerRenderedFamily(registry, definition, (set) => set({}, read()));
}
