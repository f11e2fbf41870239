// How the UDP and verification passes' results enter a snapshot. Pure.
import type { DetectedService, ObservedHost } from '../scan/types.ts';
import type { ClassificationRules } from './classify.ts';
import { portRefKey } from '../scan/scan-passes.ts';
import type { VerifyPair } from '../scan/scan-passes.ts';
import { reclassifySnapshot } from './snapshot.ts';
import type { Snapshot, SnapshotPort } from './snapshot.ts';

// After a successful UDP run, only the hosts nmap gave up on (`only`) keep their UDP ports. Detections stay behind:
// verification probes again (restoring them if it fails), and if a reload turned it off they must not look verified.
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

export function listVerifyPairs(snapshot: Snapshot): VerifyPair[] {
  return snapshot.hosts.flatMap((host) =>
    host.ports
      .filter((port) => port.class === 'nonstandard')
      .map((port) => ({ ip: host.ip, port: port.port, protocol: port.protocol })),
  );
}

/** For the pairs a failed verification run did not reach. */
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
