/** /history: its query (the /report filters, state, since, until, ip, limit, next) and its JSON and CSV bodies. */
import type { Ticket, TicketCursor, TicketPage, TicketQuery } from '../history/ticket.ts';
import { renderExceptionJson } from '../history/ticket-schema.ts';
import { formatAddress, parseAddress } from '../net/addresses.ts';
import { parseReportFilter, renderVm } from './report.ts';

export type HistoryRequest =
  | { ok: true; query: TicketQuery; format: 'json' | 'csv'; none: boolean }
  | { ok: false; message: string };

const REPORT_KEYS = ['suspicious', 'tenant', 'severity'];
const HISTORY_KEYS = ['state', 'since', 'until', 'ip', 'limit', 'next', 'format'];
export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 1000;

/** `none`: the filters cannot match a ticket (suspicious=false: every ticket is an exposure). */
export function parseHistoryRequest(params: URLSearchParams): HistoryRequest {
  const reportParams = new URLSearchParams();
  for (const [key, value] of params) {
    if (REPORT_KEYS.includes(key)) reportParams.append(key, value);
    else if (!HISTORY_KEYS.includes(key)) {
      const keys = [...REPORT_KEYS, ...HISTORY_KEYS].join(', ');
      return { ok: false, message: `unknown filter ${JSON.stringify(key)} (expected one of ${keys})` };
    }
  }
  const report = parseReportFilter(reportParams);
  if (!report.ok) return report;
  for (const key of HISTORY_KEYS) {
    const count = params.getAll(key).length;
    if (count > 1) return { ok: false, message: `${key} is given ${count} times; give it once` };
  }
  const state = params.get('state');
  if (state !== null && state !== 'open' && state !== 'closed') {
    return { ok: false, message: `state=${JSON.stringify(state)} must be open or closed` };
  }
  const format = params.get('format') ?? 'json';
  if (format !== 'json' && format !== 'csv') {
    return { ok: false, message: `format=${JSON.stringify(format)} must be json or csv` };
  }
  const since = parseTime(params, 'since');
  const until = parseTime(params, 'until');
  const limit = parseLimit(params.get('limit'));
  const after = parseCursor(params.get('next'));
  const ip = params.get('ip');
  const address = ip === null ? undefined : parseAddress(ip);
  for (const problem of [since, until, limit, after]) if (typeof problem === 'string') return problemOf(problem);
  if (ip !== null && !address) return { ok: false, message: `ip=${JSON.stringify(ip)} is not an IP address` };
  const query: TicketQuery = {
    state: state ?? undefined,
    tenant: report.filter.tenant,
    severities: report.filter.severities,
    ip: address && formatAddress(address.family, address.value),
    since: since as Date | undefined,
    until: until as Date | undefined,
    limit: limit as number,
    after: after as TicketCursor | undefined,
  };
  return { ok: true, query, format, none: report.filter.suspicious === false };
}

function problemOf(message: string): HistoryRequest {
  return { ok: false, message };
}

/** RFC 3339 or Unix seconds; a string is the problem. */
function parseTime(params: URLSearchParams, key: string): Date | undefined | string {
  const text = params.get(key);
  if (text === null) return undefined;
  const date = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
  if (Number.isNaN(date.getTime()) || !/^\d|^\d{4}-/.test(text)) {
    return `${key}=${JSON.stringify(text)} must be an RFC 3339 time (2026-12-01T00:00:00Z) or Unix seconds`;
  }
  return date;
}

function parseLimit(text: string | null): number | string {
  if (text === null) return DEFAULT_HISTORY_LIMIT;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
    return `limit=${JSON.stringify(text)} must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`;
  }
  return limit;
}

/** `next` is the previous page's last ticket: its opening time in milliseconds and its id. */
export function renderCursor(cursor: TicketCursor): string {
  return `${cursor.openedAt.getTime()}-${cursor.id}`;
}

function parseCursor(text: string | null): TicketCursor | undefined | string {
  if (text === null) return undefined;
  const match = /^(\d{1,15})-(\d{1,15})$/.exec(text);
  if (!match) return `next=${JSON.stringify(text)} is not a cursor this exporter returned`;
  return { openedAt: new Date(Number(match[1])), id: Number(match[2]) };
}

export function renderHistoryJson(page: TicketPage): object {
  return { tickets: page.tickets.map(renderTicket), next: page.next && renderCursor(page.next) };
}

function renderTicket(ticket: Ticket): object {
  return {
    id: ticket.id,
    ip: ticket.ip,
    port: ticket.port,
    protocol: ticket.protocol,
    opened_at: ticket.openedAt.toISOString(),
    closed_at: ticket.closedAt?.toISOString() ?? null,
    reopened: ticket.reopened,
    severity: ticket.severity,
    service: ticket.service,
    vm: renderVm(ticket.owner),
    vm_at_close: ticket.ownerAtClose && renderVm(ticket.ownerAtClose),
    admitted_by: ticket.admittedBy,
    exceptions: ticket.exceptions.map(renderExceptionJson),
  };
}

const CSV_COLUMNS = [
  'id',
  'ip',
  'port',
  'protocol',
  'opened_at',
  'closed_at',
  'reopened',
  'severity',
  'service',
  'tenant',
  'tenant_id',
  'user',
  'user_email',
  'vm',
  'vm_id',
  'tenant_at_close',
  'vm_at_close',
  'admitted_by',
  'exceptions',
];

/** The same rows as the JSON, one line each, the owner at opening spread over columns. */
export function renderHistoryCsv(page: TicketPage): string {
  const rows = page.tickets.map((ticket) => [
    String(ticket.id),
    ticket.ip,
    String(ticket.port),
    ticket.protocol,
    ticket.openedAt.toISOString(),
    ticket.closedAt?.toISOString() ?? '',
    String(ticket.reopened),
    ticket.severity ?? '',
    ticket.service ?? '',
    ticket.owner.tenant,
    ticket.owner.tenantId,
    ticket.owner.user,
    ticket.owner.userEmail,
    ticket.owner.vmName,
    ticket.owner.vmId,
    ticket.ownerAtClose?.tenant ?? '',
    ticket.ownerAtClose?.vmName ?? '',
    ticket.admittedBy.map((rule) => `${rule.security_group} ${rule.remote}`).join('; '),
    ticket.exceptions.map((entry) => entry.name).join('; '),
  ]);
  const lines = [CSV_COLUMNS, ...rows].map((row) => row.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * RFC 4180 quoting. Names come from tenants: a cell a spreadsheet would run as a formula (= + - @ and the
 * control characters) is prefixed with a quote mark, as OWASP advises for CSV exports.
 */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
