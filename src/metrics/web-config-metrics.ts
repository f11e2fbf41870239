// The web config's health, on a small registry of its own appended to the exposition, so the gauge exists only
// with a web config and the main collectors need not know about web configs.
import { Gauge, Registry } from 'prom-client';
import { appendLiveExposition } from './collectors.ts';
import type { MetricsEndpoint } from './collectors.ts';

export function withWebConfigReloadMetric(base: MetricsEndpoint, lastReloadSuccessful: () => boolean): MetricsEndpoint {
  const registry = new Registry();
  new Gauge({
    name: 'exposure_web_config_last_reload_successful',
    help: 'Whether the last attempt to load the web config file succeeded (1) or was refused, keeping the previous one (0).',
    registers: [registry],
    collect() {
      this.set(lastReloadSuccessful() ? 1 : 0);
    },
  });
  return appendLiveExposition(base, () => registry.metrics());
}
