/** Constant-1 metadata: this replica's shard (from the config) and its build, cached with the exposure families. */
import type { GaugeFamily } from './exposition-writer.ts';
import type { SnapshotFamily, SnapshotInput } from './snapshot-exposition.ts';

export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly nodejsVersion: string;
  readonly nmapVersion: string;
}

const SHARD_INFO: GaugeFamily<'shard' | 'shards', SnapshotInput> = {
  name: 'exposure_shard_info',
  help: 'Which part of the targets this replica scans (1): shard I of N; 0 of 1 when not sharded.',
  labelNames: ['shard', 'shards'],
  series({ config }, set) {
    const { shard } = config.settings.scan;
    set({ shard: String(shard.index), shards: String(shard.count) }, 1);
  },
};

function buildInfoFamily(
  build: BuildInfo,
): GaugeFamily<'version' | 'revision' | 'nodejs_version' | 'nmap_version', SnapshotInput> {
  return {
    name: 'exposure_build_info',
    help: 'Build information of the exporter and the nmap it runs (1).',
    labelNames: ['version', 'revision', 'nodejs_version', 'nmap_version'],
    series(_input, set) {
      set(
        {
          version: build.version,
          revision: build.revision,
          nodejs_version: build.nodejsVersion,
          nmap_version: build.nmapVersion,
        },
        1,
      );
    },
  };
}

/** In exposition order, which the golden file pins. */
export function listInfoFamilies(build: BuildInfo): SnapshotFamily[] {
  return [SHARD_INFO, buildInfoFamily(build)];
}
