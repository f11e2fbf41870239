/** Constant-1 metadata: which shard this replica scans and what it is built from. */
import type { Registry } from 'prom-client';
import type { ExporterState } from '../core/exporter-state.ts';
import { registerRenderedFamily } from './gauges.ts';

export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly nodejsVersion: string;
  readonly nmapVersion: string;
}

export function registerShardInfo(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_shard_info',
    help: 'Which part of the targets this replica scans (1): shard I of N; 0 of 1 when not sharded.',
    labelNames: ['shard', 'shards'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    const { shard } = state.config.settings.scan;
    set({ shard: String(shard.index), shards: String(shard.count) }, 1);
  });
}

export function registerBuildInfo(registry: Registry, build: BuildInfo): void {
  const definition = {
    name: 'exposure_build_info',
    help: 'Build information of the exporter and the nmap it runs (1).',
    labelNames: ['version', 'revision', 'nodejs_version', 'nmap_version'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    set({ version: build.version, revision: build.revision, nodejs_version: build.nodejsVersion, nmap_version: build.nmapVersion }, 1);
  });
}
