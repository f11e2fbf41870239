/** What one cycle does to the tickets (pure): opens, updates and closes, from the open tickets and the snapshot. */
import type { Protocol } from '../net/port-spec.ts';
import type { AddressOwner } from '../inventory/inventory.ts';
import type { Snapshot, SnapshotPort } from '../exposure/snapshot.ts';
import { SEVERITIES } from '../exposure/severity.ts';
import { renderRuleJson } from '../exposure/world-open-rules.ts';
import { parseRulesJson, renderRulesJson } from './ticket-schema.ts';
import type {
  NewTicket,
  OpenTicket,
  TicketChanges,
  TicketClosure,
  TicketException,
  TicketRule,
  TicketSeverity,
  TicketUpdate,
} from './ticket.ts';

/** Which addresses a cycle scanned with each protocol (nmap's given-up hosts left out); undefined: none. */
export interface CycleCoverage {
  readonly tcp: (ip: string) => boolean;
  readonly udp: ((ip: string) => boolean) | undefined;
}

export interface TicketPlanInput {
  readonly open: readonly OpenTicket[];
  readonly snapshot: Snapshot;
  readonly coverage: CycleCoverage;
  readonly ownerOf: (ip: string) => AddressOwner;
  readonly at: Date;
}

/** A ticket closes only if the cycle scanned its address with its protocol: a port nobody looked at is not closed. */
export function planTicketChanges(input: TicketPlanInput): TicketChanges {
  const { snapshot, coverage, at } = input;
  const openByKey = new Map(input.open.map((ticket) => [ticketKey(ticket.ip, ticket.port, ticket.protocol), ticket]));
  const opened: NewTicket[] = [];
  const updated: TicketUpdate[] = [];
  const seen = new Set<string>();
  for (const host of snapshot.hosts) {
    for (const port of host.ports) {
      if (port.class === 'standard') continue;
      const key = ticketKey(host.ip, port.port, port.protocol);
      seen.add(key);
      const ticket = openByKey.get(key);
      if (!ticket) opened.push(openTicket(host.ip, host.owner, port, at));
      else {
        const update = updateTicket(ticket, port, at);
        if (update) updated.push(update);
      }
    }
  }
  const closed: TicketClosure[] = input.open
    .filter((ticket) => !seen.has(ticketKey(ticket.ip, ticket.port, ticket.protocol)))
    .filter((ticket) => scannedWith(coverage, ticket.protocol)?.(ticket.ip) === true)
    .map((ticket) => ({ id: ticket.id, closedAt: at, ownerAtClose: input.ownerOf(ticket.ip) }));
  return { opened, updated, closed };
}

function scannedWith(coverage: CycleCoverage, protocol: Protocol): ((ip: string) => boolean) | undefined {
  if (protocol === 'tcp') return coverage.tcp;
  return protocol === 'udp' ? coverage.udp : undefined;
}

export function ticketKey(ip: string, port: number, protocol: Protocol): string {
  return `${ip} ${port}/${protocol}`;
}

/** The first-seen time opens the ticket: an exposure already open before history existed keeps its age. */
function openTicket(ip: string, owner: AddressOwner, port: SnapshotPort, at: Date): NewTicket {
  return {
    ip,
    port: port.port,
    protocol: port.protocol,
    openedAt: port.firstSeen,
    severity: port.severity,
    service: verifiedService(port),
    owner: { ...owner },
    admittedBy: renderRules(port),
    exceptions: port.exception === null ? [] : [{ name: port.exception, from: at, until: null }],
  };
}

// The rules are compared as the stored JSON text and parsed only for the rare update that keeps them.
function updateTicket(ticket: OpenTicket, port: SnapshotPort, at: Date): TicketUpdate | undefined {
  const severity = higherSeverity(ticket.severity, port.severity);
  const service = verifiedService(port) ?? ticket.service;
  const rules = port.admittedBy.length > 0 ? renderRules(port) : undefined;
  const rulesJson = rules ? renderRulesJson(rules) : ticket.admittedByJson;
  const exceptions = trackException(ticket.exceptions, port.exception, at);
  const unchanged =
    severity === ticket.severity &&
    service === ticket.service &&
    exceptions === ticket.exceptions &&
    rulesJson === ticket.admittedByJson;
  if (unchanged) return undefined;
  const admittedBy = rules ?? parseRulesJson(ticket.admittedByJson);
  return { id: ticket.id, severity, service, admittedBy, exceptions };
}

/** The same list when nothing changed; else the running exception ended and, if another covers it, a new one. */
function trackException(
  exceptions: readonly TicketException[],
  current: string | null,
  at: Date,
): readonly TicketException[] {
  const running = exceptions.find((entry) => entry.until === null);
  if (running?.name === current || (!running && current === null)) return exceptions;
  const ended = exceptions.map((entry) => (entry === running ? { ...entry, until: at } : entry));
  return current === null ? ended : [...ended, { name: current, from: at, until: null }];
}

function higherSeverity(a: TicketSeverity | null, b: TicketSeverity | null): TicketSeverity | null {
  if (a === null) return b;
  if (b === null) return a;
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}

/** What answered, as nmap's service detection named it; null until a verification pass probed the port. */
function verifiedService(port: SnapshotPort): string | null {
  const { detected } = port;
  if (!detected) return null;
  const text = [detected.name, detected.product, detected.version].filter((part) => part !== '').join(' ');
  return text === '' ? null : text;
}

function renderRules(port: SnapshotPort): TicketRule[] {
  return port.admittedBy.map(renderRuleJson);
}
