// The open tickets counted for the metrics (pure): open and overdue per severity and tenant, the oldest per severity.
import type { SeverityLevel } from '../config/severity-levels.ts';
import type { OpenTicket, TicketOwner, TicketSeverity } from './ticket.ts';

export interface TicketCount {
  readonly severity: TicketSeverity;
  readonly tenant: string;
  readonly open: number;
  readonly overdue: number;
}

export interface TicketSummary {
  readonly counts: readonly TicketCount[];
  readonly oldestOpenAgeSeconds: ReadonlyMap<TicketSeverity, number>;
}

export function tenantLabel(owner: Pick<TicketOwner, 'tenant' | 'tenantId'>): string {
  return owner.tenant !== '' ? owner.tenant : owner.tenantId;
}

/** Whether an exception covers the ticket now: an approved exposure is neither counted open nor overdue. */
export function isExcepted(ticket: Pick<OpenTicket, 'exceptions'>): boolean {
  return ticket.exceptions.some((entry) => entry.until === null);
}

export function summarizeTickets(
  open: readonly OpenTicket[],
  targetsMs: ReadonlyMap<SeverityLevel, number>,
  now: Date,
): TicketSummary {
  const counts = new Map<string, { severity: TicketSeverity; tenant: string; open: number; overdue: number }>();
  const oldest = new Map<TicketSeverity, number>();
  for (const ticket of open) {
    const { severity } = ticket;
    if (severity === null || isExcepted(ticket)) continue;
    const ageMs = now.getTime() - ticket.openedAt.getTime();
    const tenant = tenantLabel(ticket.owner);
    const key = `${severity}\u0000${tenant}`;
    const count = counts.get(key) ?? { severity, tenant, open: 0, overdue: 0 };
    count.open += 1;
    const target = targetsMs.get(severity);
    if (target !== undefined && ageMs > target) count.overdue += 1;
    counts.set(key, count);
    oldest.set(severity, Math.max(oldest.get(severity) ?? 0, ageMs / 1000));
  }
  return { counts: [...counts.values()], oldestOpenAgeSeconds: oldest };
}
