/** Realistic scan results and exporter states shared by the metrics, report and HTTP tests. */
import { NOTHING_REJECTED } from '../../src/scan/output-checks.ts';
import type { ExporterConfig } from '../../src/state/exporter-config.ts';
import { ExporterState } from '../../src/state/exporter-state.ts';
import { completeCycle, failCycle } from '../../src/state/health.ts';
import type { CycleAttempt } from '../../src/state/health.ts';
import { NO_INVENTORY } from '../../src/inventory/inventory.ts';
import { buildSnapshot } from '../../src/exposure/snapshot.ts';
import type { Snapshot } from '../../src/exposure/snapshot.ts';
import type { ObservedHost, ScanResult } from '../../src/scan/types.ts';
import { configWith } from './config.ts';

export const TEST_CONFIG_YAML = `
scan:
  targets: ["203.0.113.0/28"]
exceptions:
  - name: backup-rsync
    match: {ip: "203.0.113.9", ports: ["873/tcp"]}
    reason: approved in SEC-7
    expires: 2099-01-31
`;

/** The config as the exporter runs it (settings, scan plan, classification rules) from YAML text. */
export function testConfig(yaml = TEST_CONFIG_YAML): ExporterConfig {
  return configWith(yaml);
}

/** A scan result that took 41.2 s and finished at `finishedAt`; any field can be overridden. */
export function scanResult(
  hosts: readonly ObservedHost[],
  finishedAt: string | Date,
  overrides: Partial<ScanResult> = {},
): ScanResult {
  const finished = new Date(finishedAt);
  return {
    startedAt: new Date(finished.getTime() - 41_200),
    finishedAt: finished,
    nmapVersion: '7.93',
    nmapArgs: [['-sS', '-n', '--open']],
    targets: 16,
    hostsUp: hosts.length + 1,
    silentHosts: [],
    rejected: NOTHING_REJECTED,
    hosts,
    timedOutHosts: [],
    skippedTargets: 0,
    ...overrides,
  };
}

export const FIRST_HOSTS: ObservedHost[] = [
  {
    ip: '203.0.113.7',
    openPorts: [
      { port: 22, protocol: 'tcp', service: 'ssh' },
      { port: 6379, protocol: 'tcp', service: 'redis' },
      { port: 9200, protocol: 'tcp', service: 'wap-wsp' },
    ],
  },
  {
    ip: '203.0.113.9',
    openPorts: [
      { port: 873, protocol: 'tcp', service: 'rsync' },
      { port: 2375, protocol: 'tcp', service: 'docker' },
    ],
  },
  { ip: '203.0.113.10', openPorts: [{ port: 443, protocol: 'tcp', service: 'https' }] },
];

/** An exporter state after two cycles: the second closed 9200 on .7 and opened 27017 on .10. */
export function twoCycleState(config: ExporterConfig = testConfig()): {
  state: ExporterState;
  first: Snapshot;
  second: Snapshot;
} {
  const state = new ExporterState({ config, startedAt: new Date('2026-11-26T01:00:00Z') });
  const snapshotAt = (hosts: readonly ObservedHost[], finishedAt: string, previous: Snapshot | undefined): Snapshot =>
    buildSnapshot({ result: scanResult(hosts, finishedAt), inventory: NO_INVENTORY, rules: config.rules, previous });
  const first = snapshotAt(FIRST_HOSTS, '2026-11-26T01:00:41.200Z', undefined);
  recordCompletedCycle(state, attemptFor(1, first), first);
  const secondHosts: ObservedHost[] = [
    { ip: '203.0.113.7', openPorts: FIRST_HOSTS[0]!.openPorts.filter((port) => port.port !== 9200) },
    FIRST_HOSTS[1]!,
    {
      ip: '203.0.113.10',
      openPorts: [...FIRST_HOSTS[2]!.openPorts, { port: 27017, protocol: 'tcp', service: 'mongod' }],
    },
  ];
  const second = snapshotAt(secondHosts, '2026-11-26T02:00:41.200Z', first);
  recordCompletedCycle(state, attemptFor(2, second), second);
  return { state, first, second };
}

/** Records a completed cycle as the scheduler does: the snapshot swapped in with the new scan health. */
export function recordCompletedCycle(state: ExporterState, attempt: CycleAttempt, snapshot: Snapshot): void {
  state.recordScan(completeCycle(state.health.scan, attempt, snapshot), snapshot);
}

/** Records a failed cycle as the scheduler does: the snapshot stays. */
export function recordFailedCycle(state: ExporterState, attempt: CycleAttempt): void {
  state.recordScan(failCycle(state.health.scan, attempt));
}

function attemptFor(cycle: number, snapshot: Snapshot): CycleAttempt {
  return {
    cycle,
    scope: snapshot.scan.scope,
    addressesScanned: snapshot.scan.addressesScanned,
    startedAt: snapshot.scan.startedAt,
    finishedAt: snapshot.scan.finishedAt,
    success: true,
    error: null,
  };
}
