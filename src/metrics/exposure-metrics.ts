// The exposures: open ports and their owners. All but the changes counter depend on the snapshot and config alone,
// so they are rendered once per snapshot; the counter counts since the process started and stays with prom-client.
import type { Registry } from 'prom-client';
import type { PortClass } from '../exposure/classify.ts';
import type { ExporterState } from '../state/exporter-state.ts';
import type { AddressOwner } from '../inventory/inventory.ts';
import { summarizeHosts } from '../exposure/snapshot.ts';
import type { Snapshot, SnapshotHost, SnapshotPort } from '../exposure/snapshot.ts';
import type { GaugeFamily } from './exposition-writer.ts';
import { registerRenderedFamily } from './gauges.ts';
import type { SnapshotFamily, SnapshotInput } from './snapshot-exposition.ts';

const FROM_LAST_CYCLE = 'As of the last completed scan cycle.';

type PortOpenLabel = 'ip' | 'port' | 'protocol' | 'service' | 'severity' | 'vm_id' | 'vm_name' | 'user' | 'tenant';

const PORT_OPEN: GaugeFamily<PortOpenLabel, SnapshotInput> = {
  name: 'exposure_port_open',
  help: `Nonstandard open port (1), labelled with its owner. ${FROM_LAST_CYCLE}`,
  labelNames: ['ip', 'port', 'protocol', 'service', 'severity', 'vm_id', 'vm_name', 'user', 'tenant'],
  series({ snapshot }, set) {
    for (const { host, port } of portsOfClass(snapshot, 'nonstandard')) {
      const { protocol, service } = port;
      set(
        { ip: host.ip, port: port.port, protocol, service, severity: port.severity ?? '', ...ownerLabels(host.owner) },
        1,
      );
    }
  },
};

const PORT_FIRST_SEEN: GaugeFamily<'ip' | 'port' | 'protocol', SnapshotInput> = {
  name: 'exposure_port_first_seen_timestamp_seconds',
  help: `When a nonstandard open port was first seen open, in seconds since the epoch. ${FROM_LAST_CYCLE}`,
  labelNames: ['ip', 'port', 'protocol'],
  series({ snapshot }, set) {
    for (const { host, port } of portsOfClass(snapshot, 'nonstandard')) {
      set({ ip: host.ip, port: port.port, protocol: port.protocol }, port.firstSeen.getTime() / 1000);
    }
  },
};

const PORT_EXCEPTED: GaugeFamily<'ip' | 'port' | 'protocol' | 'exception', SnapshotInput> = {
  name: 'exposure_port_excepted',
  help: `Open port covered by an unexpired exception (1). ${FROM_LAST_CYCLE}`,
  labelNames: ['ip', 'port', 'protocol', 'exception'],
  series({ snapshot }, set) {
    for (const { host, port } of portsOfClass(snapshot, 'excepted')) {
      set({ ip: host.ip, port: port.port, protocol: port.protocol, exception: port.exception ?? '' }, 1);
    }
  },
};

const VM_NONSTANDARD_PORTS: GaugeFamily<'ip' | 'vm_id' | 'vm_name' | 'user' | 'tenant', SnapshotInput> = {
  name: 'exposure_vm_nonstandard_ports',
  help: `Number of nonstandard open ports per address that has any. ${FROM_LAST_CYCLE}`,
  labelNames: ['ip', 'vm_id', 'vm_name', 'user', 'tenant'],
  series({ snapshot }, set) {
    for (const host of snapshot?.hosts ?? []) {
      const count = host.ports.filter((port) => port.class === 'nonstandard').length;
      if (count === 0) continue;
      set({ ip: host.ip, ...ownerLabels(host.owner) }, count);
    }
  },
};

type VmInfoLabel =
  | 'ip'
  | 'vm_id'
  | 'vm_name'
  | 'vm_status'
  | 'owner_kind'
  | 'user'
  | 'user_id'
  | 'user_email'
  | 'tenant'
  | 'tenant_id';

const VM_INFO: GaugeFamily<VmInfoLabel, SnapshotInput> = {
  name: 'exposure_vm_info',
  help: `Owner of each address with open ports or latent exposures (1); labels are empty where the inventory does not know them. ${FROM_LAST_CYCLE}`,
  labelNames: [
    'ip',
    'vm_id',
    'vm_name',
    'vm_status',
    'owner_kind',
    'user',
    'user_id',
    'user_email',
    'tenant',
    'tenant_id',
  ],
  series({ snapshot }, set) {
    // Latent addresses too, often with nothing open: the alert rules join this series for user_email.
    for (const { ip, owner } of ownedAddresses(snapshot)) {
      const {
        vmId: vm_id,
        vmName: vm_name,
        vmStatus: vm_status,
        ownerKind: owner_kind,
        user,
        userId: user_id,
        userEmail: user_email,
      } = owner;
      set(
        {
          ip,
          vm_id,
          vm_name,
          vm_status,
          owner_kind,
          user,
          user_id,
          user_email,
          tenant: owner.tenant,
          tenant_id: owner.tenantId,
        },
        1,
      );
    }
  },
};

const OPEN_PORTS: GaugeFamily<'class', SnapshotInput> = {
  name: 'exposure_open_ports',
  help: `Open ports by class: standard, nonstandard, excepted. ${FROM_LAST_CYCLE}`,
  labelNames: ['class'],
  series({ snapshot }, set) {
    if (!snapshot) return;
    const summary = summarizeHosts(snapshot.hosts);
    set({ class: 'standard' }, summary.standardPorts);
    set({ class: 'nonstandard' }, summary.nonstandardPorts);
    set({ class: 'excepted' }, summary.exceptedPorts);
  },
};

const EXCEPTION_EXPIRY: GaugeFamily<'exception', SnapshotInput> = {
  name: 'exposure_exception_expiry_timestamp_seconds',
  help: 'When each configured exception expires, in seconds since the epoch.',
  labelNames: ['exception'],
  series({ config }, set) {
    for (const exception of config.settings.exceptions)
      set({ exception: exception.name }, exception.expiresAt.getTime() / 1000);
  },
};

export function registerPortChanges(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_port_changes_total',
    help: 'Open ports that opened or closed between consecutive completed cycles, since the exporter started.',
    labelNames: ['change'] as const,
    counter: true,
  };
  registerRenderedFamily(registry, definition, (set) => {
    const { changes } = state.health.scan;
    set({ change: 'opened' }, changes.opened);
    set({ change: 'closed' }, changes.closed);
  });
}

const PORT_ADMITTED: GaugeFamily<'ip' | 'port' | 'protocol' | 'security_group' | 'rule_id', SnapshotInput> = {
  name: 'exposure_port_admitted_info',
  help: `World-open security group rule that admits a nonstandard open port (1). ${FROM_LAST_CYCLE}`,
  labelNames: ['ip', 'port', 'protocol', 'security_group', 'rule_id'],
  series({ snapshot }, set) {
    for (const { host, port } of portsOfClass(snapshot, 'nonstandard')) {
      for (const rule of port.admittedBy) {
        set(
          {
            ip: host.ip,
            port: port.port,
            protocol: port.protocol,
            security_group: rule.securityGroup,
            rule_id: rule.ruleId,
          },
          1,
        );
      }
    }
  },
};

type LatentLabel =
  | 'ip'
  | 'port'
  | 'protocol'
  | 'severity'
  | 'security_group'
  | 'rule_id'
  | 'vm_id'
  | 'vm_name'
  | 'user'
  | 'tenant';

const LATENT_PORT: GaugeFamily<LatentLabel, SnapshotInput> = {
  name: 'exposure_latent_port',
  help: `Port rated high or critical that a world-open rule (or disabled port security) admits to a public VM address, listening or not (1). ${FROM_LAST_CYCLE}`,
  labelNames: ['ip', 'port', 'protocol', 'severity', 'security_group', 'rule_id', 'vm_id', 'vm_name', 'user', 'tenant'],
  series({ snapshot }, set) {
    for (const latent of snapshot?.latent ?? []) {
      const { ip, port, protocol, severity, securityGroup: security_group, ruleId: rule_id } = latent;
      set({ ip, port, protocol, severity, security_group, rule_id, ...ownerLabels(latent.owner) }, 1);
    }
  },
};

const PORT_UNAUTHENTICATED: GaugeFamily<'ip' | 'port' | 'protocol' | 'service', SnapshotInput> = {
  name: 'exposure_port_unauthenticated',
  help: `Nonstandard open port whose service answered a safe script without credentials (1). ${FROM_LAST_CYCLE}`,
  labelNames: ['ip', 'port', 'protocol', 'service'],
  series({ snapshot }, set) {
    for (const { host, port } of portsOfClass(snapshot, 'nonstandard')) {
      if (port.detected?.unauthenticated)
        set({ ip: host.ip, port: port.port, protocol: port.protocol, service: port.service }, 1);
    }
  },
};

/** In exposition order, which the golden file pins. */
export const EXPOSURE_FAMILIES: readonly SnapshotFamily[] = [
  PORT_OPEN,
  PORT_FIRST_SEEN,
  PORT_EXCEPTED,
  VM_NONSTANDARD_PORTS,
  VM_INFO,
  OPEN_PORTS,
  EXCEPTION_EXPIRY,
  PORT_ADMITTED,
  LATENT_PORT,
  PORT_UNAUTHENTICATED,
];

/** Label order is write order, which the golden file pins. */
function ownerLabels(owner: AddressOwner): { vm_id: string; vm_name: string; user: string; tenant: string } {
  return { vm_id: owner.vmId, vm_name: owner.vmName, user: owner.user, tenant: owner.tenant };
}

function ownedAddresses(snapshot: Snapshot | undefined): { ip: string; owner: AddressOwner }[] {
  const addresses = new Map<string, AddressOwner>();
  for (const host of snapshot?.hosts ?? []) addresses.set(host.ip, host.owner);
  for (const latent of snapshot?.latent ?? []) if (!addresses.has(latent.ip)) addresses.set(latent.ip, latent.owner);
  return [...addresses].map(([ip, owner]) => ({ ip, owner }));
}

function* portsOfClass(
  snapshot: Snapshot | undefined,
  portClass: PortClass,
): Generator<{ host: SnapshotHost; port: SnapshotPort }> {
  for (const host of snapshot?.hosts ?? []) {
    for (const port of host.ports) {
      if (port.class === portClass) yield { host, port };
    }
  }
}
