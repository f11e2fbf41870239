/**
 * How the UDP and verification passes' results enter a snapshot: the UDP ports a cycle without a UDP run
 * keeps from the last one, the pairs verification probes, and what it found, applied to the snapshot's
 * ports. Pure.
 */
import type { DetectedService, ObservedHost } from '../scan/types.ts';
import type { ClassificationRules } from './classify.ts';
import { portRefKey } from './scan-passes.ts';
import type { VerifyPair } from './scan-passes.ts';
import { reclassifySnapshot } from './snapshot.ts';
import type { Snapshot, SnapshotPort } from './snapshot.ts';

/**
 * The previous snapshot's UDP ports, as observed ports. `only` keeps just those addresses: after a UDP run
 * that succeeded, only the hosts nmap gave up on keep theirs. What verification found on them is left
 * behind: verification probes them again this cycle (and restores it if that fails), and with verification
 * turned off by a reload they must not go on looking verified.
 */
export function previousUdpHosts(previous: Snapshot | undefined, only?: ReadonlySet<string>): ObservedHost[] {
  if (!previous) return [];
  return previous.hosts
    .filter((host) => only === undefined || only.has(host.ip))
    .map((host) => ({
      ip: host.ip,
      openPorts: host.ports.filter((port) => port.protocol === 'udp').map(toObservedPort),
    }))
    .filter((host) => host.openPorts.length > 0);
}

function toObservedPort(port: SnapshotPort): ObservedHost['openPorts'][number] {
  return { port: port.port, protocol: port.protocol, service: port.service };
}

/** Every open nonstandard port of the snapshot: what verification probes. Standard and excepted ports are left alone. */
export function listVerifyPairs(snapshot: Snapshot): VerifyPair[] {
  return snapshot.hosts.flatMap((host) =>
    host.ports
      .filter((port) => port.class === 'nonstandard')
      .map((port) => ({ ip: host.ip, port: port.port, protocol: port.protocol })),
  );
}

/** What the previous snapshot had found on each pair, for pairs a failed verification run did not reach. */
export function previousDetections(
  previous: Snapshot | undefined,
  pairs: readonly VerifyPair[],
): Map<string, DetectedService> {
  const wanted = new Set(pairs.map((pair) => portRefKey(pair.ip, pair.port, pair.protocol)));
  const found = new Map<string, DetectedService>();
  for (const host of previous?.hosts ?? []) {
    for (const port of host.ports) {
      const key = portRefKey(host.ip, port.port, port.protocol);
      if (port.detected && wanted.has(key)) found.set(key, port.detected);
    }
  }
  return found;
}

/** The snapshot with each detected port's service and severity following what answered. */
export function applyDetections(
  snapshot: Snapshot,
  detections: ReadonlyMap<string, DetectedService>,
  rules: ClassificationRules,
  now: Date,
): Snapshot {
  if (detections.size === 0) return snapshot;
  const hosts = snapshot.hosts.map((host) => ({
    ...host,
    ports: host.ports.map((port): SnapshotPort => {
      const detected = detections.get(portRefKey(host.ip, port.port, port.protocol));
      // What answered names the service; the guess by number is kept when no probe matched.
      return detected ? { ...port, service: detected.name || port.service, detected } : port;
    }),
  }));
  return reclassifySnapshot({ ...snapshot, hosts }, rules, now);
}
