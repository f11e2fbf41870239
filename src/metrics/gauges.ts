/**
 * The builders of the live exposure_ families: collect() resets and sets each from the state synchronously, so a
 * gone series disappears and no scrape mixes two cycles.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { FamilyDefinition, GaugeFamily, SetSeries } from './exposition-writer.ts';

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
export function registerOptionalGauge(
  registry: Registry,
  definition: FamilyDefinition<never>,
  read: () => number | undefined,
): void {
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

/**
 * A family of the cached part rendered by prom-client at every scrape instead, as all of them were before the
 * cache: what the bench measures the cache against, and what the tests compare the writer's bytes with. An
 * unlabelled family that sets nothing is absent, as the writer leaves it.
 */
export function registerGaugeFamily<L extends string, I>(
  registry: Registry,
  family: GaugeFamily<L, I>,
  read: () => I,
): void {
  const labelNames = [...(family.labelNames ?? [])];
  new Gauge<L>({
    name: family.name,
    help: family.help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      if (labelNames.length === 0) this.remove();
      family.series(read(), (labels, value) => this.set(labels, value));
    },
  });
}
