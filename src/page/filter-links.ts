// The landing page's filters: links with /report's query parameters that narrow the page itself. A tenant or
// severity link keeps the other filters, so `tenant=alpha` then `high` shows alpha's high ports.
import type { ReportFilter } from '../report/report.ts';
import { SEVERITIES } from '../exposure/severity.ts';
import { escapeHtml } from './html.ts';

export interface TenantChoice {
  readonly tenant: string;
  readonly tenantId: string;
}

/** The query string (without `?`) that parseReportFilter reads back as `filter`. */
export function renderFilterQuery(filter: ReportFilter): string {
  const query = new URLSearchParams();
  if (filter.tenant !== undefined) query.set('tenant', filter.tenant);
  for (const severity of filter.severities ?? []) query.append('severity', severity);
  if (filter.suspicious !== undefined) query.set('suspicious', String(filter.suspicious));
  return query.toString();
}

/** `tenants` are every tenant the unfiltered page has, so a filtered view can switch to another one. */
export function renderFilterLinks(input: { filter: ReportFilter; tenants: readonly TenantChoice[] }): string {
  const { filter } = input;
  const current = renderFilterQuery(filter);
  const tenantValues = [...new Set(input.tenants.map((choice) => choice.tenant || choice.tenantId))].sort((a, b) =>
    a === '' ? 1 : b === '' ? -1 : a.localeCompare(b, 'en'),
  );
  const general = [link('all', {}, current), link('suspicious only', { ...filter, suspicious: true }, current)];
  const tenants = tenantValues.map((tenant) =>
    link(tenant === '' ? 'no tenant' : tenant, { ...filter, tenant }, current),
  );
  const severities = SEVERITIES.map((severity) => link(severity, { ...filter, severities: [severity] }, current));
  const report = `report${current === '' ? '' : `?${current}`}`;
  return `<nav class="filters">
<p><b>Show</b> ${general.join(' · ')}</p>
${tenants.length > 0 ? `<p><b>Tenant</b> ${tenants.join(' · ')}</p>\n` : ''}<p><b>Severity</b> ${severities.join(' · ')}</p>
<p><a href="${escapeHtml(report)}">This view as JSON</a> (the same filters on /report)</p>
</nav>`;
}

function link(label: string, target: ReportFilter, current: string): string {
  const query = renderFilterQuery(target);
  if (query === current) return `<b aria-current="page">${escapeHtml(label)}</b>`;
  const href = query === '' ? './' : `?${query}`;
  return `<a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;
}
