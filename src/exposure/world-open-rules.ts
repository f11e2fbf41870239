// Which security group rules let the whole internet reach a port, and the latent exposures they open. Pure.
import { parseAddress } from '../net/addresses.ts';
import type { Protocol } from '../net/port-spec.ts';
import { classifyPort } from './classify.ts';
import type { ClassificationRules } from './classify.ts';
import type { AddressOwner, AddressSecurity, IngressRule } from '../inventory/inventory.ts';
import type { Severity } from './severity.ts';

export interface AdmittingRule {
  readonly securityGroupId: string;
  readonly securityGroup: string;
  readonly ruleId: string;
  /** The rule's remote_ip_prefix, or 0.0.0.0/0 or ::/0 when it has none. */
  readonly remote: string;
}

export function renderRuleJson(rule: AdmittingRule): {
  security_group_id: string;
  security_group: string;
  rule_id: string;
  remote: string;
} {
  return {
    security_group_id: rule.securityGroupId,
    security_group: rule.securityGroup,
    rule_id: rule.ruleId,
    remote: rule.remote,
  };
}

/** A port the internet could reach on a public VM address, whether or not anything listens there now. */
export interface LatentExposure {
  readonly ip: string;
  readonly port: number | 'all';
  readonly protocol: Protocol;
  readonly severity: Severity;
  /** Empty, as the rule id, for an address without port security: no rule is involved. */
  readonly securityGroupId: string;
  readonly securityGroup: string;
  readonly ruleId: string;
  readonly owner: AddressOwner;
}

/** A rule for any protocol stands for the two the exporter can scan. */
const ANY_PROTOCOL: readonly Protocol[] = ['tcp', 'udp'];

export function findAdmittingRules(
  address: string,
  port: number,
  protocol: Protocol,
  security: AddressSecurity | undefined,
): AdmittingRule[] {
  if (!security?.portSecurity) return [];
  const ethertype = ethertypeOf(address);
  return security.rules
    .filter((rule) => isWorldOpen(rule, ethertype) && admitsProtocol(rule, protocol) && admitsPort(rule, port))
    .map(renderAdmittingRule);
}

export interface LatentInput {
  readonly security: ReadonlyMap<string, AddressSecurity>;
  readonly owners: ReadonlyMap<string, AddressOwner>;
  readonly rules: ClassificationRules;
  /** Each shard reports the latent exposures of its own addresses. */
  readonly scanned: (address: string) => boolean;
  readonly now: Date;
}

// Each severity-table port in a world-open rule's range counts if, classified as an open port would be, it is high
// or critical; a rule without a range, or an address without port security, exposes all ports: critical.
export function findLatentExposures(input: LatentInput): LatentExposure[] {
  const latent: LatentExposure[] = [];
  for (const [ip, security] of input.security) {
    const owner = input.owners.get(ip);
    if (!security.public || owner?.ownerKind !== 'compute' || !input.scanned(ip)) continue;
    if (!security.portSecurity) {
      for (const protocol of ANY_PROTOCOL)
        latent.push(allPorts(ip, protocol, owner, { securityGroupId: '', securityGroup: '', ruleId: '' }));
      continue;
    }
    const ethertype = ethertypeOf(ip);
    for (const rule of security.rules) {
      if (!isWorldOpen(rule, ethertype)) continue;
      const protocols = protocolsOf(rule);
      if (rule.portMin === null && rule.portMax === null) {
        for (const protocol of protocols) latent.push(allPorts(ip, protocol, owner, rule));
        continue;
      }
      for (const { port, protocol } of listTablePorts(input.rules, protocols, rule)) {
        const { class: portClass, severity } = classifyPort(
          input.rules,
          { ip, owner, port: { port, protocol, service: '' } },
          input.now,
        );
        if (portClass !== 'nonstandard' || (severity !== 'critical' && severity !== 'high')) continue;
        latent.push({ ip, port, protocol, severity, ...ruleLabels(rule), owner });
      }
    }
  }
  return latent;
}

function allPorts(
  ip: string,
  protocol: Protocol,
  owner: AddressOwner,
  rule: Pick<LatentExposure, 'securityGroupId' | 'securityGroup' | 'ruleId'>,
): LatentExposure {
  return { ip, port: 'all', protocol, severity: 'critical', ...ruleLabels(rule), owner };
}

function ruleLabels(
  rule: Pick<IngressRule, 'securityGroupId' | 'securityGroup' | 'ruleId'>,
): Pick<LatentExposure, 'securityGroupId' | 'securityGroup' | 'ruleId'> {
  return { securityGroupId: rule.securityGroupId, securityGroup: rule.securityGroup, ruleId: rule.ruleId };
}

function listTablePorts(
  rules: ClassificationRules,
  protocols: readonly Protocol[],
  rule: IngressRule,
): { port: number; protocol: Protocol }[] {
  const found: { port: number; protocol: Protocol }[] = [];
  for (const key of rules.severities.keys()) {
    const [number, protocol] = key.split('/') as [string, Protocol];
    const port = Number.parseInt(number, 10);
    if (protocols.includes(protocol) && admitsPort(rule, port)) found.push({ port, protocol });
  }
  return found.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
}

function ethertypeOf(address: string): IngressRule['ethertype'] {
  return parseAddress(address)?.family === 6 ? 'IPv6' : 'IPv4';
}

export function isWorldOpen(rule: IngressRule, ethertype: IngressRule['ethertype']): boolean {
  if (rule.ethertype !== ethertype || rule.remoteGroupId !== null) return false;
  return rule.remoteIpPrefix === null || rule.remoteIpPrefix.endsWith('/0');
}

function isAnyProtocol(rule: IngressRule): boolean {
  return rule.protocol === null || rule.protocol.toLowerCase() === 'any';
}

function protocolsOf(rule: IngressRule): readonly Protocol[] {
  if (isAnyProtocol(rule)) return ANY_PROTOCOL;
  const protocol = rule.protocol?.toLowerCase();
  if (protocol === 'tcp' || protocol === '6') return ['tcp'];
  if (protocol === 'udp' || protocol === '17') return ['udp'];
  if (protocol === 'sctp' || protocol === '132') return ['sctp'];
  return [];
}

function admitsProtocol(rule: IngressRule, protocol: Protocol): boolean {
  return isAnyProtocol(rule) || protocolsOf(rule).includes(protocol);
}

/** Neutron gives both ends or neither; a lone end stands for itself. */
function admitsPort(rule: IngressRule, port: number): boolean {
  if (rule.portMin === null && rule.portMax === null) return true;
  const first = rule.portMin ?? rule.portMax ?? 0;
  const last = rule.portMax ?? rule.portMin ?? 0;
  return port >= first && port <= last;
}

function renderAdmittingRule(rule: IngressRule): AdmittingRule {
  return {
    securityGroupId: rule.securityGroupId,
    securityGroup: rule.securityGroup,
    ruleId: rule.ruleId,
    remote: rule.remoteIpPrefix ?? (rule.ethertype === 'IPv6' ? '::/0' : '0.0.0.0/0'),
  };
}
