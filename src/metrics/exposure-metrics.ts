/** The exposures themselves: open ports and their owners, from the current snapshot. */
import type { Registry } from 'prom-client';
import type { PortClass } from '../core/classify.ts';
import type { ExporterState } from '../core/exporter-state.ts';
import type { AddressOwner } from '../core/inventory.ts';
import { summarizeHosts } from '../core/snapshot.ts';
import type { SnapshotHost, SnapshotPort } from '../core/snapshot.ts';
import { registerRenderedFamily } from './gauges.ts';

const FROM_LAST_CYCLE = 'As of the last completed scan cycle.';

/** In exposition order, which the golden file pins. */
export function registerExposureMetrics(registry: Registry, state: ExporterState): void {
  registerPortOpen(registry, state);
  registerPortFirstSeen(registry, state);
  registerPortExcepted(registry, state);
  registerVmNonstandardPorts(registry, state);
  registerVmInfo(registry, state);
  registerOpenPorts(registry, state);
  registerPortChanges(registry, state);
  registerExceptionExpiry(registry, state);
  registerPortAdmitted(registry, state);
  registerLatentPort(registry, state);
}

function registerPortOpen(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_port_open',
    help: `Nonstandard open port (1), labelled with its owner. ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'port', 'protocol', 'service', 'severity', 'vm_id', 'vm_name', 'user', 'tenant'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    for (const { host, port } of portsOfClass(state, 'nonstandard')) {
      const { protocol, service } = port;
      set({ ip: host.ip, port: port.port, protocol, service, severity: port.severity ?? '', ...ownerLabels(host.owner) }, 1);
    }
  });
}

function registerPortFirstSeen(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_port_first_seen_timestamp_seconds',
    help: `When a nonstandard open port was first seen open, in seconds since the epoch. ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'port', 'protocol'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    for (const { host, port } of portsOfClass(state, 'nonstandard')) {
      set({ ip: host.ip, port: port.port, protocol: port.protocol }, port.firstSeen.getTime() / 1000);
    }
  });
}

function registerPortExcepted(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_port_excepted',
    help: `Open port covered by an unexpired exception (1). ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'port', 'protocol', 'exception'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    for (const { host, port } of portsOfClass(state, 'excepted')) {
      set({ ip: host.ip, port: port.port, protocol: port.protocol, exception: port.exception ?? '' }, 1);
    }
  });
}

function registerVmNonstandardPorts(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_vm_nonstandard_ports',
    help: `Number of nonstandard open ports per address that has any. ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'vm_id', 'vm_name', 'user', 'tenant'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    for (const host of state.snapshot?.hosts ?? []) {
      const count = host.ports.filter((port) => port.class === 'nonstandard').length;
      if (count === 0) continue;
      set({ ip: host.ip, ...ownerLabels(host.owner) }, count);
    }
  });
}

function registerVmInfo(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_vm_info',
    help: `Owner of each address with open ports or latent exposures (1); labels are empty where the inventory does not know them. ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'vm_id', 'vm_name', 'vm_status', 'owner_kind', 'user', 'user_id', 'user_email', 'tenant', 'tenant_id'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    // Latent addresses too, often with nothing open: the alert rules join this series for user_email.
    for (const { ip, owner } of ownedAddresses(state)) {
      const { vmId: vm_id, vmName: vm_name, vmStatus: vm_status, ownerKind: owner_kind, user, userId: user_id, userEmail: user_email } = owner;
      set({ ip, vm_id, vm_name, vm_status, owner_kind, user, user_id, user_email, tenant: owner.tenant, tenant_id: owner.tenantId }, 1);
    }
  });
}

function registerOpenPorts(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_open_ports',
    help: `Open ports by class: standard, nonstandard, excepted. ${FROM_LAST_CYCLE}`,
    labelNames: ['class'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    const { snapshot } = state;
    if (!snapshot) return;
    const summary = summarizeHosts(snapshot.hosts);
    set({ class: 'standard' }, summary.standardPorts);
    set({ class: 'nonstandard' }, summary.nonstandardPorts);
    set({ class: 'excepted' }, summary.exceptedPorts);
  });
}

function registerPortChanges(registry: Registry, state: ExporterState): void {
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

function registerExceptionExpiry(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_exception_expiry_timestamp_seconds',
    help: 'When each configured exception expires, in seconds since the epoch.',
    labelNames: ['exception'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    for (const exception of state.config.settings.exceptions) set({ exception: exception.name }, exception.expiresAt.getTime() / 1000);
  });
}

/** One series per world-open security group rule that admits a nonstandard open port. */
function registerPortAdmitted(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_port_admitted_info',
    help: `World-open security group rule that admits a nonstandard open port (1). ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'port', 'protocol', 'security_group', 'rule_id'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    for (const { host, port } of portsOfClass(state, 'nonstandard')) {
      for (const rule of port.admittedBy) {
        set({ ip: host.ip, port: port.port, protocol: port.protocol, security_group: rule.securityGroup, rule_id: rule.ruleId }, 1);
      }
    }
  });
}

function registerLatentPort(registry: Registry, state: ExporterState): void {
  const definition = {
    name: 'exposure_latent_port',
    help: `Port rated high or critical that a world-open rule (or disabled port security) admits to a public VM address, listening or not (1). ${FROM_LAST_CYCLE}`,
    labelNames: ['ip', 'port', 'protocol', 'severity', 'security_group', 'rule_id', 'vm_id', 'vm_name', 'user', 'tenant'] as const,
  };
  registerRenderedFamily(registry, definition, (set) => {
    for (const latent of state.snapshot?.latent ?? []) {
      const { ip, port, protocol, severity, securityGroup: security_group, ruleId: rule_id } = latent;
      set({ ip, port, protocol, severity, security_group, rule_id, ...ownerLabels(latent.owner) }, 1);
    }
  });
}

/** The owner labels of the per-port and per-address series, in the order they are written (the golden file pins it). */
function ownerLabels(owner: AddressOwner): { vm_id: string; vm_name: string; user: string; tenant: string } {
  return { vm_id: owner.vmId, vm_name: owner.vmName, user: owner.user, tenant: owner.tenant };
}

/** Each address with open ports or latent exposures once, with its owner. */
function ownedAddresses(state: ExporterState): { ip: string; owner: AddressOwner }[] {
  const addresses = new Map<string, AddressOwner>();
  for (const host of state.snapshot?.hosts ?? []) addresses.set(host.ip, host.owner);
  for (const latent of state.snapshot?.latent ?? []) if (!addresses.has(latent.ip)) addresses.set(latent.ip, latent.owner);
  return [...addresses].map(([ip, owner]) => ({ ip, owner }));
}

/** The open ports of one class in the current snapshot, each with its host. */
function* portsOfClass(state: ExporterState, portClass: PortClass): Generator<{ host: SnapshotHost; port: SnapshotPort }> {
  for (const host of state.snapshot?.hosts ?? []) {
    for (const port of host.ports) {
      if (port.class === portClass) yield { host, port };
    }
  }
}
