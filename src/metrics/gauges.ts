// The live families: collect() resets and sets each from the state synchronously, so a gone series disappears
// and no scrape mixes two cycles.
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { FamilyDefinition, GaugeFamily, SetSeries } from './exposition-writer.ts';

/** A gauge, or with `counter: true` a counter, whose series are all rebuilt by `render` at each scrape. */
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

/** Absent, not 0, while `read` gives undefined: reset() leaves an unlabelled gauge at 0, remove() drops it. */
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

export function registerGauge(registry: Registry, definition: FamilyDefinition<never>, read: () => number): void {
  registerRenderedFamily(registry, definition, (set) => set({}, read()));
}

/** A cached family rendered by prom-client at each scrape instead: the baseline for the bench and the writer's tests. */
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
      // An unlabelled family that sets nothing is absent, as the writer leaves it.
      if (labelNames.length === 0) this.remove();
      family.series(read(), (labels, value) => this.set(labels, value));
    },
  });
}
