/**
 * Every exposure_ metric on a registry of its own, rendered at scrape time from the exporter state: collect()
 * only reads the current snapshot and health, so a closed port's series disappears with the cycle that saw it
 * closed and no scrape ever mixes two cycles. The families live by subject in the modules imported below.
 */
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { hasInventory } from '../config/schema.ts';
import type { ExporterState } from '../core/exporter-state.ts';
import { registerExposureMetrics } from './exposure-metrics.ts';
import { registerHealthMetrics } from './health-metrics.ts';
import { registerBuildInfo, registerShardInfo } from './info-metrics.ts';
import { registerInventoryFileMetrics } from './inventory-file-metrics.ts';
import { registerSweepMetrics } from './sweep-metrics.ts';
import type { BuildInfo } from './info-metrics.ts';

export type { BuildInfo } from './info-metrics.ts';

/** What /metrics serves; the HTTP layer sees this, never prom-client. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
  /** Records one OpenStack API request, for exposure_openstack_request_duration_seconds. */
  observeOpenStackRequest(service: string, seconds: number): void;
}

/**
 * A registry of its own (never prom-client's global one) with the exporter's metrics, plus Node.js process
 * metrics unless left out, which keeps golden files stable.
 */
export function createMetricsEndpoint(options: { state: ExporterState; build: BuildInfo; processMetrics: boolean }): MetricsEndpoint {
  const { state, build } = options;
  const registry = new Registry();
  // Registration order is exposition order, which the golden file pins.
  registerExposureMetrics(registry, state);
  registerHealthMetrics(registry, state);
  // Like the inventory they describe, present only when the exporter started with one.
  if (hasInventory(state.config.settings)) registerSweepMetrics(registry, state);
  if (state.config.settings.inventoryFile) registerInventoryFileMetrics(registry, state);
  registerShardInfo(registry, state);
  registerBuildInfo(registry, build);
  const requestDuration = registerRequestDuration(registry);
  if (options.processMetrics) registerProcessMetrics(registry);
  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    observeOpenStackRequest: (service, seconds) => requestDuration.observe({ service }, seconds),
  };
}

/** Observed as requests happen, unlike everything else here: latency is a stream, not a state. */
function registerRequestDuration(registry: Registry): Histogram<'service'> {
  return new Histogram({
    name: 'exposure_openstack_request_duration_seconds',
    help: 'Duration of OpenStack API requests, by service type.',
    labelNames: ['service'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
}

/** Node.js process metrics: CPU, memory, event loop lag. */
function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  // prom-client exports these sums as gauges named _total, which promtool's lint rejects; the per-type
  // nodejs_active_* gauges it also exports carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
}
