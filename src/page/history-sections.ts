// The page's history part: per tenant, the tickets opened and closed in the last 7 days and those open longest,
// each capped, the rest a link to the matching /history query.
import { describeError } from '../errors.ts';
import type { HistoryRecorder } from '../history/history-recorder.ts';
import type { OwnerSummary, Ticket, TicketCursor, TicketQuery } from '../history/ticket.ts';

/** What a row shows, from a /history page (a Ticket) or the recorder's open tickets (an OpenTicket). */
type PageTicket = Pick<Ticket, 'id' | 'ip' | 'port' | 'protocol' | 'openedAt' | 'severity' | 'exceptions'> & {
  readonly closedAt?: Date | null;
  readonly owner: OwnerSummary;
};
import { isExcepted, tenantLabel } from '../history/ticket-summary.ts';
import type { ReportFilter } from '../report/report.ts';
import { renderFilterQuery } from './filter-links.ts';
import { escapeHtml } from './html.ts';

export type HistorySource = Pick<HistoryRecorder, 'view' | 'query' | 'settings'>;

const WINDOW_MS = 7 * 24 * 3600 * 1000;
export const TENANT_ROWS = 20;
export const SECTION_ROWS = 200;
/** Rendering `/` reads the database synchronously: a week in which a sweep opened more is cut short, not read whole. */
export const READ_LIMIT = 5000;
const PAGE_SIZE = 1000;

type Read = { ok: true; tickets: PageTicket[]; complete: boolean } | { ok: false; message: string };

interface Section {
  readonly title: string;
  readonly read: Read;
  readonly closedColumn: boolean;
  /** The /history parameters (before tenant and severity) that list every ticket of the section. */
  readonly history: URLSearchParams;
}

interface TenantGroup {
  readonly label: string;
  readonly tenant: string;
  readonly tenantId: string;
  readonly tickets: PageTicket[];
}

export function renderHistorySections(input: { history: HistorySource; filter: ReportFilter; now: Date }): string {
  const { history, filter, now } = input;
  const since = new Date(now.getTime() - WINDOW_MS);
  const scope = { tenant: filter.tenant, severities: filter.severities };
  const sinceParam: [string, string] = ['since', since.toISOString()];
  const opened = readTickets(history, { ...scope, since }, since);
  const closed = readTickets(history, { ...scope, state: 'closed', since });
  // Approved exposures are not waiting for a fix: like the overdue metrics, "open longest" leaves them out.
  const open = history.view.open
    .filter((ticket) => ticket.severity !== null && !isExcepted(ticket) && matchesFilter(ticket, filter))
    .sort((a, b) => a.openedAt.getTime() - b.openedAt.getTime() || a.id - b.id);
  const sections: Section[] = [
    {
      title: 'Opened in the last 7 days',
      read: opened,
      closedColumn: false,
      history: new URLSearchParams([sinceParam]),
    },
    {
      title: 'Closed in the last 7 days',
      read: closed.ok ? { ...closed, tickets: closed.tickets.sort(newestClosingFirst) } : closed,
      closedColumn: true,
      history: new URLSearchParams([['state', 'closed'], sinceParam]),
    },
    {
      title: 'Open longest',
      read: { ok: true, tickets: open, complete: true },
      closedColumn: false,
      history: new URLSearchParams([['state', 'open']]),
    },
  ];
  const context = { filter, now, targetsMs: history.settings.remediationTargetsMs };
  return `<h2>History</h2>
<p>Each exposure (address, port, protocol) is a ticket from first seen to closed: <a href="${escapeHtml(historyHref(new URLSearchParams(), filter))}">all of them in /history</a>.</p>
${sections.map((section) => renderSection(section, context)).join('\n')}`;
}

/** Pages through the query, newest opening first; `openedSince` stops at the first ticket opened before it. */
function readTickets(history: HistorySource, query: Omit<TicketQuery, 'limit'>, openedSince?: Date): Read {
  const tickets: Ticket[] = [];
  let after: TicketCursor | undefined;
  try {
    for (;;) {
      const page = history.query({ ...query, limit: PAGE_SIZE, after });
      for (const ticket of page.tickets) {
        if (openedSince !== undefined && ticket.openedAt < openedSince) return { ok: true, tickets, complete: true };
        if (tickets.length === READ_LIMIT) return { ok: true, tickets, complete: false };
        tickets.push(ticket);
      }
      if (page.next === null) return { ok: true, tickets, complete: true };
      after = page.next;
    }
  } catch (err) {
    return { ok: false, message: describeError(err) };
  }
}

/** The page's tenant and severity filters, as /history applies them: the tenant at opening, by name or id. */
function matchesFilter(ticket: PageTicket, filter: ReportFilter): boolean {
  const { tenant, tenantId } = ticket.owner;
  return (
    (filter.tenant === undefined || tenant === filter.tenant || tenantId === filter.tenant) &&
    (filter.severities === undefined || (ticket.severity !== null && filter.severities.includes(ticket.severity)))
  );
}

function newestClosingFirst(a: PageTicket, b: PageTicket): number {
  return (b.closedAt?.getTime() ?? 0) - (a.closedAt?.getTime() ?? 0) || b.id - a.id;
}

interface RenderContext {
  readonly filter: ReportFilter;
  readonly now: Date;
  readonly targetsMs: HistorySource['settings']['remediationTargetsMs'];
}

/** At most TENANT_ROWS per tenant, so one noisy tenant does not hide the others; each cut links to the rest. */
function renderSection(section: Section, context: RenderContext): string {
  const heading = `<h3>${escapeHtml(section.title)}</h3>`;
  if (!section.read.ok) return `${heading}\n<p>History is unavailable: ${escapeHtml(section.read.message)}</p>`;
  const { tickets, complete } = section.read;
  if (tickets.length === 0) return `${heading}\n<p class="empty">No tickets match this view.</p>`;
  const closed = section.closedColumn ? ['Closed'] : [];
  const columns = ['Tenant', 'VM', 'Address', 'Port', 'Severity', 'Opened', ...closed, 'Open for'];
  const atLeast = complete ? '' : 'at least ';
  const rows: string[] = [];
  let budget = SECTION_ROWS;
  let unshown = 0;
  let unshownTenants = 0;
  for (const group of groupByTenant(tickets)) {
    if (budget === 0) {
      unshown += group.tickets.length;
      unshownTenants += 1;
      continue;
    }
    const shown = group.tickets.slice(0, Math.min(TENANT_ROWS, budget));
    budget -= shown.length;
    rows.push(...shown.map((ticket) => renderRow(ticket, group, section.closedColumn, context)));
    const more = group.tickets.length - shown.length;
    if (more > 0) {
      const href = historyHref(section.history, { ...context.filter, tenant: group.tenantId || group.tenant });
      rows.push(
        `<tr><td colspan="${columns.length}">… and ${atLeast}${more} more in ${renderTenant(group)}: ${renderHistoryLink(href)}</td></tr>`,
      );
    }
  }
  const sectionHref = historyHref(section.history, context.filter);
  const tails = [
    ...(unshown > 0
      ? [
          `<p>… and ${atLeast}${unshown} more in ${unshownTenants} more tenant${unshownTenants === 1 ? '' : 's'}: ${renderHistoryLink(sectionHref)}</p>`,
        ]
      : []),
    ...(complete
      ? []
      : [
          `<p>Only the ${READ_LIMIT} tickets opened last were read for this section: ${renderHistoryLink(sectionHref)}</p>`,
        ]),
  ];
  return `${heading}
<table class="history">
<thead><tr>${columns.map((name) => `<th>${escapeHtml(name)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>${tails.map((tail) => `\n${tail}`).join('')}`;
}

/** Keyed by tenant name and id together, as the exposure tables are. */
function groupByTenant(tickets: readonly PageTicket[]): TenantGroup[] {
  const groups = new Map<string, TenantGroup>();
  for (const ticket of tickets) {
    const { tenant, tenantId } = ticket.owner;
    const key = JSON.stringify([tenant, tenantId]);
    const group = groups.get(key) ?? { label: tenantLabel(ticket.owner), tenant, tenantId, tickets: [] };
    group.tickets.push(ticket);
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => {
    if ((a.label === '') !== (b.label === '')) return a.label === '' ? 1 : -1;
    return a.label.localeCompare(b.label, 'en') || a.tenantId.localeCompare(b.tenantId, 'en');
  });
}

function renderRow(ticket: PageTicket, group: TenantGroup, closedColumn: boolean, context: RenderContext): string {
  const end = ticket.closedAt ?? context.now;
  const ageMs = end.getTime() - ticket.openedAt.getTime();
  const target = ticket.severity === null ? undefined : context.targetsMs.get(ticket.severity);
  const overdue = !ticket.closedAt && !isExcepted(ticket) && target !== undefined && ageMs > target;
  const severity = ticket.severity ?? '';
  const cells = [
    renderTenant(group),
    renderVm(ticket),
    // Every ticket the address ever had, reopenings included, is one click away.
    `<a href="${escapeHtml(historyHref(new URLSearchParams({ ip: ticket.ip }), {}))}"><code>${escapeHtml(ticket.ip)}</code></a>`,
    `${ticket.port}/${escapeHtml(ticket.protocol)}`,
    [
      severity === '' ? '' : `<span class="severity ${escapeHtml(severity)}">${escapeHtml(severity)}</span>`,
      isExcepted(ticket) ? '<span class="muted">excepted</span>' : '',
    ]
      .filter((part) => part !== '')
      .join(' '),
    formatDate(ticket.openedAt),
    ...(closedColumn ? [ticket.closedAt ? formatDate(ticket.closedAt) : ''] : []),
    [
      escapeHtml(formatAge(ageMs)),
      ...(overdue && target !== undefined
        ? [`<strong>overdue</strong> (target ${escapeHtml(formatAge(target))})`]
        : []),
      ...(!closedColumn && ticket.closedAt ? ['<span class="muted">closed</span>'] : []),
    ].join(' '),
  ];
  return `<tr>${cells.map((cell) => `<td>${cell}</td>`).join('')}</tr>`;
}

function renderTenant(group: TenantGroup): string {
  if (group.label === '') return '<span class="muted">no tenant</span>';
  if (group.tenant === '' || group.tenantId === '' || group.tenant === group.tenantId) return escapeHtml(group.label);
  return `<span title="${escapeHtml(group.tenantId)}">${escapeHtml(group.label)}</span>`;
}

function renderVm(ticket: PageTicket): string {
  const { vmName, vmId, ownerKind } = ticket.owner;
  const name = vmName || vmId || ownerKind;
  if (name === '') return '<span class="muted">unknown</span>';
  return vmId === '' ? escapeHtml(name) : `<span title="${escapeHtml(vmId)}">${escapeHtml(name)}</span>`;
}

/** A link relative to the page, as its /report links are, so a path prefix in front of the exporter keeps working. */
function historyHref(params: URLSearchParams, filter: ReportFilter): string {
  const scope: ReportFilter = {
    ...(filter.tenant !== undefined && { tenant: filter.tenant }),
    ...(filter.severities !== undefined && { severities: filter.severities }),
  };
  const query = [params.toString(), renderFilterQuery(scope)].filter((part) => part !== '').join('&');
  return query === '' ? 'history' : `history?${query}`;
}

function renderHistoryLink(href: string): string {
  return `<a href="${escapeHtml(href)}">see them in /history</a>`;
}

function formatDate(time: Date): string {
  return `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Not config/'s formatDuration, which is exact to the millisecond (and page/ may not import config/). */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor(minutes / 60) % 24;
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes % 60 > 0 ? `${hours}h ${minutes % 60}m` : `${hours}h`;
  return minutes > 0 ? `${minutes}m` : 'under 1m';
}
