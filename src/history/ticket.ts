/** An exposure's ticket from first seen to closed, as the history database keeps it and /history shows it. */
import type { AddressOwner } from '../inventory/inventory.ts';

export type TicketOwner = AddressOwner;

/** A security-group rule that admitted the port, in /report's `admitted_by` shape. */
export interface TicketRule {
  readonly security_group_id: string;
  readonly security_group: string;
  readonly rule_id: string;
  readonly remote: string;
}

/** An exception that covered the ticket, from the cycle that first saw it apply to the one that saw it stop. */
export interface TicketException {
  readonly name: string;
  readonly from: Date;
  readonly until: Date | null;
}

export type TicketSeverity = 'critical' | 'high' | 'medium' | 'low';

export interface Ticket {
  readonly id: number;
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly openedAt: Date;
  readonly closedAt: Date | null;
  /** An earlier ticket of the same address, port and protocol was closed before this one opened. */
  readonly reopened: boolean;
  /** The highest severity the port had; null while only an exception ever covered it. */
  readonly severity: TicketSeverity | null;
  /** What verification found answering (nmap's service name, product and version), null until verified. */
  readonly service: string | null;
  readonly owner: TicketOwner;
  readonly ownerAtClose: TicketOwner | null;
  readonly admittedBy: readonly TicketRule[];
  readonly exceptions: readonly TicketException[];
}

/** What the page and the metrics need of an owner: who to name, and the tenant to count under. */
export type OwnerSummary = Pick<TicketOwner, 'vmId' | 'vmName' | 'ownerKind' | 'tenantId' | 'tenant'>;

/**
 * An open ticket as a cycle plans against it and the metrics and page read it: light enough to hold 25,000 of
 * (bench/history.ts), so the owner is summed up and the admitting rules stay the stored JSON, compared whole.
 */
export interface OpenTicket
  extends Pick<Ticket, 'id' | 'ip' | 'port' | 'protocol' | 'openedAt' | 'severity' | 'service' | 'exceptions'> {
  readonly owner: OwnerSummary;
  readonly admittedByJson: string;
}

/** A ticket to open; the store numbers it and decides whether it reopens an earlier one. */
export type NewTicket = Omit<Ticket, 'id' | 'reopened' | 'closedAt' | 'ownerAtClose'>;

export type TicketUpdate = Pick<Ticket, 'id' | 'severity' | 'service' | 'admittedBy' | 'exceptions'>;

export interface TicketClosure {
  readonly id: number;
  readonly closedAt: Date;
  readonly ownerAtClose: TicketOwner;
}

export interface TicketChanges {
  readonly opened: readonly NewTicket[];
  readonly updated: readonly TicketUpdate[];
  readonly closed: readonly TicketClosure[];
}

/** The totals kept for time to remediate: closed tickets and the time they were open, per severity and tenant. */
export interface RemediationCounter {
  readonly severity: TicketSeverity;
  readonly tenant: string;
  readonly closed: number;
  readonly openSeconds: number;
}

export interface TicketQuery {
  readonly state?: 'open' | 'closed' | undefined;
  /** A tenant name or id, matched against the owner at opening. */
  readonly tenant?: string | undefined;
  readonly severities?: readonly TicketSeverity[] | undefined;
  readonly ip?: string | undefined;
  /** Tickets open at some time in [since, until): opened before until, and open still or closed at or after since. */
  readonly since?: Date | undefined;
  readonly until?: Date | undefined;
  readonly limit: number;
  readonly after?: TicketCursor | undefined;
}

export interface TicketCursor {
  readonly openedAt: Date;
  readonly id: number;
}

export interface TicketPage {
  readonly tickets: readonly Ticket[];
  readonly next: TicketCursor | null;
}
