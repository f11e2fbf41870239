// Every exposure_ metric, in two parts: the snapshot's and config's families, rendered to bytes once per swap
// (snapshot-exposition.ts), then the live ones on a prom-client registry, rendered at scrape time.
import { gzipSync } from 'node:zlib';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { hasInventory } from '../config/schema.ts';
import type { ExporterConfig } from '../state/exporter-config.ts';
import type { ExporterState } from '../state/exporter-state.ts';
import { EXPOSURE_FAMILIES, registerPortChanges } from './exposure-metrics.ts';
import { CYCLE_RESULT_FAMILIES, registerHealthMetrics } from './health-metrics.ts';
import { listInfoFamilies } from './info-metrics.ts';
import type { BuildInfo } from './info-metrics.ts';
import { registerInventoryFileMetrics } from './inventory-file-metrics.ts';
import { registerHistoryMetrics } from './history-metrics.ts';
import type { HistoryRecorder } from '../history/history-recorder.ts';
import { SWEEP_FAMILIES } from './sweep-metrics.ts';
import { PASS_FAMILIES } from './pass-metrics.ts';
import { SnapshotExposition } from './snapshot-exposition.ts';
import type { SnapshotFamily } from './snapshot-exposition.ts';

export type { BuildInfo } from './info-metrics.ts';

/** What /metrics serves; the HTTP layer sees this, never prom-client. */
export interface MetricsEndpoint {
  readonly contentType: string;
  /** With `gzip`, each chunk is a gzip member of its own: together one valid stream (RFC 1952 allows several). */
  renderBody(options: { gzip: boolean }): Promise<readonly Buffer[]>;
  render(): Promise<string>;
  observeOpenStackRequest(service: string, seconds: number): void;
}

/** A registry of its own, never prom-client's global one; leaving out process metrics keeps golden files stable. */
export function createMetricsEndpoint(options: {
  state: ExporterState;
  build: BuildInfo;
  processMetrics: boolean;
  history?: Pick<HistoryRecorder, 'view' | 'settings'> | undefined;
  onSnapshotRender?: () => void;
}): MetricsEndpoint {
  const { state } = options;
  const cached = new SnapshotExposition({
    families: listSnapshotFamilies({ build: options.build, config: state.config }),
    ...(options.onSnapshotRender && { onRender: options.onSnapshotRender }),
  });
  const registry = new Registry();
  const observeOpenStackRequest = registerLiveMetrics(registry, options);

  const renderBody = async ({ gzip }: { gzip: boolean }): Promise<readonly Buffer[]> => {
    // Both parts are read before the compression leaves the event loop, so a scrape never mixes two cycles.
    const part = cached.current({ snapshot: state.snapshot, config: state.config });
    const live = Buffer.from(await registry.metrics(), 'utf8');
    // The live part is a few KiB: compressing it on the spot costs less than handing it to the thread pool.
    return gzip ? [await part.gzip(), gzipSync(live)] : [part.identity, live];
  };
  return {
    contentType: registry.contentType,
    renderBody,
    render: async () => Buffer.concat(await renderBody({ gzip: false })).toString('utf8'),
    observeOpenStackRequest,
  };
}

// The cached part, first in the exposition and in the order the golden file pins. The sweep gauges, like the
// inventory they describe, are there only when the exporter started with one.
export function listSnapshotFamilies(options: { build: BuildInfo; config: ExporterConfig }): SnapshotFamily[] {
  const sweeps = hasInventory(options.config.settings) ? SWEEP_FAMILIES : [];
  return [
    ...EXPOSURE_FAMILIES,
    ...CYCLE_RESULT_FAMILIES,
    ...sweeps,
    ...PASS_FAMILIES,
    ...listInfoFamilies(options.build),
  ];
}

/** The live part, in exposition order; exported so the bench can serve the same metrics through prom-client alone. */
export function registerLiveMetrics(
  registry: Registry,
  options: {
    state: ExporterState;
    processMetrics: boolean;
    history?: Pick<HistoryRecorder, 'view' | 'settings'> | undefined;
  },
): (service: string, seconds: number) => void {
  const { state } = options;
  registerPortChanges(registry, state);
  registerHealthMetrics(registry, state);
  // Like the file they describe, present only when the exporter started with one.
  if (state.config.settings.inventoryFile) registerInventoryFileMetrics(registry, state);
  if (options.history) registerHistoryMetrics(registry, options.history);
  const requestDuration = registerRequestDuration(registry);
  if (options.processMetrics) registerProcessMetrics(registry);
  return (service, seconds) => requestDuration.observe({ service }, seconds);
}

/** One more chunk (or gzip member), so a module can add metrics of its own without the endpoint knowing of it. */
export function appendLiveExposition(base: MetricsEndpoint, render: () => Promise<string>): MetricsEndpoint {
  const renderBody = async ({ gzip }: { gzip: boolean }): Promise<readonly Buffer[]> => {
    const [chunks, text] = await Promise.all([base.renderBody({ gzip }), render()]);
    const extra = Buffer.from(text, 'utf8');
    return [...chunks, gzip ? gzipSync(extra) : extra];
  };
  return {
    ...base,
    renderBody,
    render: async () => Buffer.concat(await renderBody({ gzip: false })).toString('utf8'),
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

function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  // prom-client exports these as gauges named _total, which promtool rejects; nodejs_active_* carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
}
