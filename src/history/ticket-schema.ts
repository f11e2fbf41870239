// The history database's tables and how a Ticket maps onto a row. Migrations are only appended, never edited:
// step i leaves `user_version` i + 1.
import type {
  NewTicket,
  OpenTicket,
  OwnerSummary,
  Ticket,
  TicketException,
  TicketOwner,
  TicketRule,
  TicketSeverity,
  TicketUpdate,
} from './ticket.ts';

export const TICKET_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    ip TEXT NOT NULL,
    port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),
    protocol TEXT NOT NULL CHECK (protocol IN ('tcp', 'udp', 'sctp')),
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    reopened INTEGER NOT NULL CHECK (reopened IN (0, 1)),
    severity TEXT CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    service TEXT,
    owner TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    owner_at_close TEXT,
    admitted_by TEXT NOT NULL,
    exceptions TEXT NOT NULL
  );
  -- One open ticket per address, port and protocol: a replayed opening is skipped, never duplicated.
  CREATE UNIQUE INDEX tickets_open_key ON tickets (ip, port, protocol) WHERE closed_at IS NULL;
  CREATE INDEX tickets_key ON tickets (ip, port, protocol);
  CREATE INDEX tickets_by_opening ON tickets (opened_at DESC, id DESC);
  CREATE INDEX tickets_by_tenant ON tickets (tenant, opened_at DESC, id DESC);
  CREATE INDEX tickets_by_tenant_id ON tickets (tenant_id, opened_at DESC, id DESC);
  CREATE INDEX tickets_by_closing ON tickets (closed_at);

  CREATE TABLE remediation_counters (
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    tenant TEXT NOT NULL,
    closed INTEGER NOT NULL,
    open_seconds REAL NOT NULL,
    PRIMARY KEY (severity, tenant)
  );
  `,
];

export const TICKET_SCHEMA_VERSION = TICKET_MIGRATIONS.length;

/**
 * What openTickets reads, as arrays (setReturnArrays): no closing fields, the owner's JSON never parsed, and
 * its summary only when asked for. 25,000 rows read so cost a fifth of the memory of whole tickets.
 */
export const OPEN_TICKET_COLUMNS = 'id, ip, port, protocol, opened_at, severity, service, admitted_by, exceptions';
export const OWNER_SUMMARY_COLUMNS =
  "tenant, tenant_id, owner ->> '$.vmId', owner ->> '$.vmName', owner ->> '$.ownerKind'";

type OpenTicketRow = [
  number,
  string,
  number,
  Ticket['protocol'],
  number,
  TicketSeverity | null,
  string | null,
  string,
  string,
  ...(string | null)[],
];

const NO_OWNER: OwnerSummary = { vmId: '', vmName: '', ownerKind: '', tenantId: '', tenant: '' };

export function parseOpenTicket(row: unknown): OpenTicket {
  const [id, ip, port, protocol, openedAt, severity, service, admittedBy, exceptions, ...owner] = row as OpenTicketRow;
  const [tenant, tenantId, vmId, vmName, ownerKind] = owner;
  return {
    id,
    ip,
    port,
    protocol,
    openedAt: new Date(openedAt),
    severity,
    service,
    admittedByJson: admittedBy,
    // Nearly always '[]': parsed only when an exception ever covered the ticket.
    exceptions: exceptions === '[]' ? [] : parseExceptionsJson(exceptions),
    owner:
      owner.length === 0
        ? NO_OWNER
        : {
            tenant: tenant ?? '',
            tenantId: tenantId ?? '',
            vmId: vmId ?? '',
            vmName: vmName ?? '',
            ownerKind: ownerKind ?? '',
          },
  };
}

/** The rules as the store writes them, so a plan compares a port's rules with a ticket's as text. */
export function renderRulesJson(rules: readonly TicketRule[]): string {
  return JSON.stringify(rules.map(pickRule));
}

export const TICKET_COLUMNS =
  'id, ip, port, protocol, opened_at, closed_at, reopened, severity, service, owner, owner_at_close, admitted_by, exceptions';

type SqlValue = string | number | null;

/** A row of `tickets` as SQLite returns it: times in ms since the epoch, objects as JSON text. */
export interface TicketRow {
  id: number;
  ip: string;
  port: number;
  protocol: Ticket['protocol'];
  opened_at: number;
  closed_at: number | null;
  reopened: number;
  severity: TicketSeverity | null;
  service: string | null;
  owner: string;
  owner_at_close: string | null;
  admitted_by: string;
  exceptions: string;
}

export function newTicketParams(ticket: NewTicket): Record<string, SqlValue> {
  return {
    ip: ticket.ip,
    port: ticket.port,
    protocol: ticket.protocol,
    openedAt: ticket.openedAt.getTime(),
    severity: ticket.severity,
    service: ticket.service,
    owner: JSON.stringify(pickOwner(ticket.owner)),
    tenantId: ticket.owner.tenantId,
    tenant: ticket.owner.tenant,
    admittedBy: renderRulesJson(ticket.admittedBy),
    exceptions: JSON.stringify(ticket.exceptions.map(renderExceptionJson)),
  };
}

export function updateParams(update: TicketUpdate): Record<string, SqlValue> {
  return {
    id: update.id,
    severity: update.severity,
    service: update.service,
    admittedBy: renderRulesJson(update.admittedBy),
    exceptions: JSON.stringify(update.exceptions.map(renderExceptionJson)),
  };
}

export function parseTicket(row: TicketRow): Ticket {
  return {
    id: row.id,
    ip: row.ip,
    port: row.port,
    protocol: row.protocol,
    openedAt: new Date(row.opened_at),
    closedAt: row.closed_at === null ? null : new Date(row.closed_at),
    reopened: row.reopened === 1,
    severity: row.severity,
    service: row.service,
    owner: JSON.parse(row.owner) as TicketOwner,
    ownerAtClose: row.owner_at_close === null ? null : (JSON.parse(row.owner_at_close) as TicketOwner),
    admittedBy: parseRulesJson(row.admitted_by),
    exceptions: parseExceptionsJson(row.exceptions),
  };
}

export function parseRulesJson(text: string): TicketRule[] {
  return JSON.parse(text) as TicketRule[];
}

function parseExceptionsJson(text: string): TicketException[] {
  const exceptions = JSON.parse(text) as { name: string; from: string; until: string | null }[];
  return exceptions.map((e) => ({
    name: e.name,
    from: new Date(e.from),
    until: e.until === null ? null : new Date(e.until),
  }));
}

// The pick functions store exactly the declared fields: callers pass richer inventory objects, and a column
// holding whatever they carried would change shape whenever the inventory grows a field.
export function pickOwner(owner: TicketOwner): TicketOwner {
  const { vmId, vmName, vmStatus, ownerKind, userId, user, userEmail, tenantId, tenant } = owner;
  return { vmId, vmName, vmStatus, ownerKind, userId, user, userEmail, tenantId, tenant };
}

function pickRule(rule: TicketRule): TicketRule {
  const { security_group_id, security_group, rule_id, remote } = rule;
  return { security_group_id, security_group, rule_id, remote };
}

/** An exception as the database and /history write it: times as RFC 3339 text. */
export function renderExceptionJson(exception: TicketException): {
  name: string;
  from: string;
  until: string | null;
} {
  return { name: exception.name, from: exception.from.toISOString(), until: exception.until?.toISOString() ?? null };
}
